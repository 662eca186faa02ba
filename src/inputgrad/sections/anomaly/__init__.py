"""Beyond the paper, from the companion article (issue 13, items 3 and 4): do large input
gradients flag unfamiliar inputs, and do attributions summed over feature groups rank what the
model uses better than single features?

1. Gradient-norm anomaly detection (`gradient_anomaly`, per seed): every model scores a seeded
   sample of its test set and shifted sets (MNIST: Gaussian and uniform noise, inverted and
   90°-rotated digits, scikit-learn's real 8x8 digits upsampled to 28x28; IMDB: reviews with
   shuffled words, random token sequences by word frequency and uniform) with four detectors:
   the maximum softmax probability, GradNorm, and the L2 norm of the input gradient of the
   predicted class's log-probability and logit. AUROC (Mann-Whitney, shifted = positive) and
   the FPR at 95 % TPR per detector and set.
2. Grouped deletion (`grouped_deletion`, per seed): deletion curves of the MNIST MLP with
   pixels removed one by one vs whole k x k patches (ranked by summed attribution), and of the
   CNN with words vs windows of w words, for |gradient| and gradient x input; area over the
   curve compared at the same numbers of removed pixels or words.
3. Across seeds (`anomaly_seeds`, `anomaly_figure`): per seed values, `core.stats.seed_summary`
   and the seeds in which a detector beats chance or grouping beats single features.

compute: the maths (gradients through `core.gradients` / `core.methods`, groups through
`core.groups`); tables: tidy tables and Markdown; views: the figure; stages: the rules.
"""
