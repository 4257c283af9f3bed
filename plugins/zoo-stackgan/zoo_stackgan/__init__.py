"""zoo-stackgan: StackGAN (Zhang et al., ICCV 2017) text-to-image synthesis for the zoo.

Heavy modules (torch) are imported only where they are used; ``zoo_stackgan.hooks`` and
``zoo_stackgan.config`` import none, so the CLI starts fast.
"""

__version__ = "0.1.0"
