"""Thin adapter: MNIST pixels to float32 in [0, 1]."""
from inputgrad import logs
from inputgrad.prepare import prepare_mnist

logs.setup(snakemake.log[0])
prepare_mnist(snakemake.input.raw, snakemake.output.data)
