import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from hashkit.data import ArrayImages, ImageDataset, load_dataset
from hashkit.deep.backbones import SmallCNN
from hashkit.deep.tensors import SplitImages, image_shape, iterate_batches, to_tensor
from hashkit.runtime import resolve_device, seed_everything


def tiny_dataset(n: int = 10, rgb: bool = False) -> ImageDataset:
    rng = np.random.default_rng(0)
    shape = (n, 8, 8, 3) if rgb else (n, 8, 8)
    labels = np.eye(3, dtype=np.uint8)[np.arange(n) % 3]
    return ImageDataset("tiny", labels, ("a", "b", "c"), ArrayImages(rng.integers(0, 256, shape, dtype=np.uint8)))


def test_seed_everything_makes_torch_and_numpy_repeat():
    generator = seed_everything(5)
    first = (torch.rand(3), np.random.rand(3), torch.rand(2, generator=generator))
    generator = seed_everything(5)
    second = (torch.rand(3), np.random.rand(3), torch.rand(2, generator=generator))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_resolve_device_accepts_cpu_and_names_what_is_missing():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no GPU"):
            resolve_device("cuda")


def test_images_become_channels_first_floats_in_unit_range():
    grey, rgb = tiny_dataset(), tiny_dataset(rgb=True)
    assert to_tensor(grey.images(np.arange(4))).shape == (4, 1, 8, 8)
    tensor = to_tensor(rgb.images(np.arange(4)))
    assert tensor.shape == (4, 3, 8, 8) and 0 <= tensor.min() and tensor.max() <= 1
    np.testing.assert_allclose(tensor[1, 2].numpy() * 255, rgb.images(np.array([1]))[0, :, :, 2], atol=1e-4)
    assert image_shape(rgb) == (3, 8, 8)
    with pytest.raises(ValueError, match="uint8"):
        to_tensor(np.zeros((2, 8, 8), dtype=np.float32))


def test_split_images_and_batches_follow_the_indices():
    dataset = tiny_dataset()
    split = SplitImages(dataset, np.array([7, 2, 5]))
    image, label, position = split[1]
    assert position == 1 and label.argmax().item() == 2 % 3
    np.testing.assert_allclose(image[0].numpy(), dataset.images(np.array([2]))[0] / 255, atol=1e-6)
    batches = list(iterate_batches(dataset, np.arange(10), batch_size=4))
    assert [len(batch) for batch in batches] == [4, 4, 2]


@pytest.mark.parametrize("name", ["tiny", "fashion-mosaic"])
def test_a_batch_read_at_once_equals_its_items_read_one_by_one(name):
    dataset = tiny_dataset() if name == "tiny" else load_dataset("fashion-mosaic", n_images=40, seed=0)
    split = SplitImages(dataset, np.array([9, 3, 7, 1, 5, 0]))
    positions = [4, 0, 5, 2]  # shuffled, as the training loader draws them
    one_by_one = default_collate([split[position] for position in positions])
    at_once = default_collate(split.__getitems__(positions))
    for expected, got in zip(one_by_one, at_once):
        assert torch.equal(expected, got)


def test_small_cnn_maps_images_to_features():
    features = SmallCNN(in_channels=3, image_size=(56, 56), channels=(8, 16), feature_dim=32)(torch.rand(2, 3, 56, 56))
    assert features.shape == (2, 32) and (features >= 0).all()
