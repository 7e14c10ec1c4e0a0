"""cnnreport: colourization as classification on CIFAR-10, reproduced and measured."""
__version__ = "0.1.0"
