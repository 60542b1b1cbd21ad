import faiss
import numpy as np
import pytest
import torch

from hashkit import codes


def random_codes(rng: np.random.Generator, n: int, n_bits: int) -> np.ndarray:
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, n_bits))


def test_sign_maps_zero_to_plus_one_for_arrays_and_tensors():
    values = np.array([[-2.0, 0.0, 3.0, -0.0]])
    assert codes.sign(values).tolist() == [[-1, 1, 1, 1]]
    assert codes.sign(values).dtype == np.int8
    tensor = torch.tensor([[-2.0, 0.0, 3.0]], dtype=torch.float64)
    signed = codes.sign(tensor)
    assert signed.tolist() == [[-1.0, 1.0, 1.0]]
    assert signed.dtype == torch.float64


@pytest.mark.parametrize("n_bits", [1, 7, 8, 12, 64, 65])
def test_pack_unpack_round_trip(n_bits):
    rng = np.random.default_rng(n_bits)
    original = random_codes(rng, 20, n_bits)
    packed = codes.pack(original)
    assert packed.shape == (20, (n_bits + 7) // 8)
    np.testing.assert_array_equal(codes.unpack(packed, n_bits), original)
    np.testing.assert_array_equal(codes.from_bits(codes.to_bits(original)), original)


def test_pack_uses_the_faiss_bit_layout():
    # Bit i goes to byte i // 8, position i % 8: code with only bit 9 set -> byte 1 == 0b10.
    code = -np.ones((1, 16), dtype=np.int8)
    code[0, 9] = 1
    assert codes.pack(code).tolist() == [[0, 2]]


@pytest.mark.parametrize("n_bits", [8, 32, 64])
def test_hamming_distances_agree_with_faiss_and_with_counting(n_bits):
    rng = np.random.default_rng(0)
    queries, database = random_codes(rng, 15, n_bits), random_codes(rng, 40, n_bits)
    distances = codes.hamming_distances(queries, database)
    counted = (queries[:, None, :] != database[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(distances, counted)
    index = faiss.IndexBinaryFlat(n_bits)
    index.add(codes.pack(database))
    faiss_distances, faiss_ids = index.search(codes.pack(queries), len(database))
    np.testing.assert_array_equal(np.take_along_axis(distances, faiss_ids, axis=1), faiss_distances)


def test_bad_codes_are_clear_errors():
    with pytest.raises(ValueError, match="±1"):
        codes.check_codes(np.array([[0, 1]]))
    with pytest.raises(ValueError, match="2-D"):
        codes.check_codes(np.array([1, -1]))
    with pytest.raises(ValueError, match="bits"):
        codes.hamming_distances(np.ones((2, 8), np.int8), np.ones((2, 16), np.int8))
    with pytest.raises(ValueError, match="n_bits"):
        codes.unpack(np.zeros((2, 1), np.uint8), 9)
