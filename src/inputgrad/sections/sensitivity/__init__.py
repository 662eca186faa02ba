"""Beyond the paper (companion article): the input gradient as a first-order sensitivity, on the
four trained models of every seed, and its spread over the seeds.

1. First-order validity (taylor_validity): along random unit directions and the normalised
   gradient, the actual change f(x + eps u) - f(x) of the predicted class's logit and
   probability against the prediction grad f(x) . eps u, per eps on a log grid; the eps at
   which the median relative error passes 10 %. MNIST pixels (MLP, logistic regression: exact
   for its logit), the bag of words (binary input treated as continuous), the CNN's embedding
   output (core.models.split_embedding).
2. Gradient-guided perturbations: FGSM, random signs and PGD on MNIST pixels
   (fgsm_robustness); fewest word flips on the bag of words, first-order greedy vs random
   (bow_word_flips); HotFlip-style word substitutions on the CNN vs random
   (cnn_word_substitutions), with example reviews.
3. Across seeds (sensitivity_seeds) with `core.stats.seed_summary`, and two figures.

compute: the maths (every gradient through `core.gradients`); tables: the tidy tables and
their Markdown; views: the figures; stages: the rules' functions.
"""
