"""Paper section 5.3: an MLP on MNIST, its mean Jacobian per class vs logistic-regression weights.

compute (Jacobians: all digits and class-conditional; weights; seed averages), tables (per-seed
correlation table, cross-seed table), views (figures), stages (rule functions).
"""
