// Heap accounting for the benchmarks: peak_memory.cpp interposes malloc in the benchmark
// binaries so that a benchmark can report the peak heap bytes its iteration held.
#pragma once

#include <cstddef>

namespace bench {

std::size_t heap_bytes();  // currently allocated through operator new
// Starts a measurement window; peak_since_mark() is the largest growth over the mark since.
void mark_heap();
std::size_t peak_since_mark();

}  // namespace bench
