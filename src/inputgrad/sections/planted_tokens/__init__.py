"""Ground truth for the text methods (issue 22, IMDB half): plant a shortcut, and ask whether
the attributions find it (the companion article's watermark example, Zhou et al. 2022's
inserted tokens).

1. Data (`data.planted`): two tokens outside the 5000-word dictionary (ids num_words and
   num_words + 1, one per class) inserted at a seeded position into a share of the training
   reviews of their class; test versions clean, consistent and swapped.
2. Models: the paper's IMDB CNN and bag-of-words MLP trained on the planted reviews per seed
   (imdb_cnn_planted, imdb_bow_mlp_planted); controls: the clean imdb_cnn and imdb_bow_mlp.
3. Per seed (planted_tokens): accuracy per version; per registered method relevance mass,
   pointing game and rank of the token; detection without being told.
4. Across seeds (planted_tokens_seeds) and a text-highlight figure (planted_tokens_figure).

compute: the maths; tables: tidy tables and Markdown; views: the figure; stages: the rules.
"""
