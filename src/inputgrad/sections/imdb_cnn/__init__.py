"""Paper section 5.1: the word-embedding CNN on IMDB, per-word gradient norms, Table 1.

compute (gradients, windows, ranks, review selection) / tables (Table 1 and its Markdown) /
views (HTML and PNG) / stages (the rules' functions).
"""
