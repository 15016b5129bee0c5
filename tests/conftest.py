import numpy as np
import pytest
import torch


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)
