"""``include/linux/hash.h`` on a 64-bit kernel."""
GOLDEN_RATIO_64 = 0x61C8864680B583EB
_MASK64 = (1 << 64) - 1


def hash_64(val: int, bits: int) -> int:
    """``hash_64_generic``: 64-bit multiply by the golden ratio, keep the high ``bits``."""
    return ((val * GOLDEN_RATIO_64) & _MASK64) >> (64 - bits)


def hash_ptr(ptr: int, bits: int) -> int:
    """``hash_ptr``: on 64-bit, ``hash_64((unsigned long)ptr, bits)``."""
    return hash_64(ptr & _MASK64, bits)
