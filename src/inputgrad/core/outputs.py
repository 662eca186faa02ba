"""The names of the outputs an attribution differentiates, without TensorFlow (so the command
line can list them in --help without loading it); `core.gradients.transform` computes them."""

OUTPUTS = ("logit", "probability", "log_probability", "cross_entropy")
