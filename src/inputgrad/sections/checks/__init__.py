"""Beyond the paper: do the attributions mean anything? Two cheap checks, on the model of
every training seed, and their spread over the seeds.

1. Faithfulness (deletion test) on the MNIST model of `config["checks"]["model"]`: rank the
   pixels of each digit by an attribution for the predicted class (gradient |g|, gradient x
   input, Integrated Gradients with a black baseline, SmoothGrad |.|, and a seeded random
   ranking as control), set the top k to 0 and follow the mean predicted-class probability. A
   faithful ranking makes it fall fast; the area over the curve (AOC) summarises it. IG's
   completeness gap is a diagnostic.
2. Sanity check (model randomisation, Adebayo et al. 2018): |gradient| maps of the trained
   model vs of the same architecture with re-initialised weights; Spearman rank correlation
   per digit. An explanation that explains the model should change: low correlation expected.
3. Across seeds (checks_seeds): per seed the AOC of each method, IG's completeness gap and the
   sanity Spearman, their `core.stats.seed_summary` and the methods ranked by mean AOC.

compute: the maths (every attribution through `core.methods.attribute`); tables: the tidy
tables and their Markdown; views: the deletion figure; stages: the rules' functions.
"""
