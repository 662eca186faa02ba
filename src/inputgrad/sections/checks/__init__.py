"""Beyond the paper: do the attributions mean anything? Three cheap checks.

1. Faithfulness (deletion test) on the MNIST model of `config["checks"]["model"]`: rank the
   pixels of each digit by an attribution for the predicted class (gradient |g|, gradient x
   input, Integrated Gradients with a black baseline, SmoothGrad |.|, and a seeded random
   ranking as control), set the top k to 0 and follow the mean predicted-class probability. A
   faithful ranking makes it fall fast; the area over the curve (AOC) summarises it. IG's
   completeness gap is a diagnostic.
2. Sanity check (model randomisation, Adebayo et al. 2018): |gradient| maps of the trained
   model vs of the same architecture with re-initialised weights; Spearman rank correlation
   per digit. An explanation that explains the model should change: low correlation expected.
3. Seed variability of the bag-of-words ḡ ranking (paper 5.2): test accuracy over seeds and,
   per pair of seeds, the Spearman correlation of ḡ and the overlap of the top-k word sets.

compute: the maths (every attribution through `core.methods.attribute`); tables: the tidy
tables; views: the deletion figure; stages: the rules' functions.
"""
