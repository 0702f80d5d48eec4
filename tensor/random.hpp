// The global random generator behind randn, rand and randint.
#pragma once

#include <cstdint>

namespace xg {

// Makes every random op reproducible from here on (one generator for the process).
void manual_seed(std::uint64_t seed);

}  // namespace xg
