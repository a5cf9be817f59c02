import numpy as np
import torch

from core.inputs import preprocess
from core.models import build_model, parse_model

# ImageNet-1k classes 281-285: tabby, tiger cat, Persian, Siamese, Egyptian cat.
CAT_CLASSES = set(range(281, 286))


def test_efficientnet_lite0_weights_are_real(settings):
    from skimage import data  # scikit-image ships this photo of Chelsea the cat

    model = build_model(parse_model("efficientnet_lite0"), settings)
    batch = torch.from_numpy(preprocess([data.chelsea()], model.input_spec))
    with torch.inference_mode():
        top = model.artifact.module(batch).softmax(1)[0]
    assert int(top.argmax()) in CAT_CLASSES
    assert float(top[list(CAT_CLASSES)].sum()) > 0.5
    assert model.input_spec.mean == (0.5, 0.5, 0.5)
    assert np.isclose(float(top.sum()), 1.0)
