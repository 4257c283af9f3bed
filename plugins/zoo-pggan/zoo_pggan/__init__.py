"""zoo-pggan: Progressive Growing of GANs (Karras et al., 2018) as a zoo plugin.

``layers`` holds the paper's building blocks (equalized learning rate, PixelNorm, minibatch
stddev, resampling); ``networks`` the growing generator and discriminator; ``schedule`` the
growth schedule as a pure function of images shown; ``model`` and ``trainer`` tie them to the
zoo core; ``swd`` is the paper's sliced Wasserstein distance on Laplacian pyramids.
"""

__version__ = "0.1.0"
