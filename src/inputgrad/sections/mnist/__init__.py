"""Paper section 5.3: an MLP on MNIST, its mean Jacobian per class vs logistic-regression weights.

compute (Jacobians, weights), tables (correlation table), views (figure), stages (rule
functions).
"""
