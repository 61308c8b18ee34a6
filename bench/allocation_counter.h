// Counts heap allocations made by this process (global operator new), so a
// benchmark can prove it allocates nothing per viewer per packet.
#pragma once

#include <cstdint>

namespace cascade::bench {

uint64_t allocations();

}  // namespace cascade::bench
