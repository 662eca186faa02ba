"""Beyond the paper, the companion article's watermark example measured: Decoy MNIST (Ross,
Hughes & Doshi-Velez 2017). A 4 x 4 corner patch whose grey encodes the label is planted in
the training digits (`data.decoy`); an MNIST MLP trained on them (decoy), the same trained
with the right-reasons input-gradient penalty on the patch (repaired), and the clean MNIST MLP
(control) are scored on the three test versions (same rule, random grey, no patch):

1. accuracy per model and version: how much each relies on the patch;
2. for every registered gradient method (and the random floor): relevance mass (share of
   |attribution| in the patch; uniform 16/784) and pointing game (top pixel in the patch),
   per test digit with a patch, their mean and a 95 % interval;
3. detection without being told: the highest-mass 4 x 4 window of each method's mean
   |attribution| map over the test digits, and whether it is a corner patch;
4. across seeds (decoy_mnist_seeds) and the figure of the mean maps (decoy_mnist_figure).

compute: the maths; tables: tidy tables, summary, Markdown; views: the figure; stages: the
rules' functions. Details: docs/decoy_mnist.md.
"""
