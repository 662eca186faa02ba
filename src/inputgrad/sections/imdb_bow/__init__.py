"""Paper Sec. 5.2: a fully connected network on binary bag-of-words vectors, interpreted
globally by the mean input gradient ḡ (Table 2) and by the linear rule "positive if x·ḡ > t".

Representation. Review i is the binary vector x_i in {0, 1}^V with x_ij = 1 iff word id j
occurs in the review (ids follow `keras.datasets.imdb`: id = rank in the Keras word index +
index_from). Column j IS word id j, so the input keeps the width V = model.vocab_size; the
reserved ids 0..index_from (0 padding, 1 start marker, 2 out-of-vocabulary, 3 unused) are not
words and their columns are always 0, so they carry no information and never enter Table 2.

Rules (`workflow/rules/imdb_bow.smk`), one function each in `stages`; per seed:
`train_imdb_bow_mlp` -> `imdb_bow_gbar` (ḡ arrays, per-word table, per-review scores x·ḡ)
-> `table2_words`, `bow_linear_agreement`; across the seeds: `table2_seeds` (the paper's words,
the linear rule and the accuracy per seed with summaries; ḡ compared per pair of seeds); the
first seed's `imdb_bow_gbar_figure` (reads only saved files).
The maths is in `compute`, the tidy tables in `tables`, the figure in `views`.
"""
