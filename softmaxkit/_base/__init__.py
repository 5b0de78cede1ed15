"""The internal floor: validation, array helpers, errors, kernels, Dask blocks, the autograd hook.

The folder is private (nothing outside :mod:`softmaxkit` imports it); the names inside are
public so that every floor above uses the one copy. Nothing here imports a module above it.
"""
