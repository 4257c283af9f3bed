"""DCGAN for the zoo: all-convolutional G and D trained with the shared GAN toolkit (zoo_core.gan)."""
