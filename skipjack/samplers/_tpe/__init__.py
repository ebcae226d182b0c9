"""Tree-structured Parzen Estimator: the sampler and its numerical kernels."""
