"""A toy 'solutions' module for testing grader machinery that no chapter uses yet."""
import torch


def softplus_sum(x, w):
    """sum_j softplus(x_ij * w_j) per row: a differentiable torch function of x and w."""
    return torch.nn.functional.softplus(x * w).sum(dim=-1)
