// Shapes: the xg::Shape type, broadcasting, and dim checks shared by every op.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xg {

// Sizes of a tensor's dims, outermost first; {} is a 0-d (scalar) tensor.
using Shape = std::vector<std::int64_t>;

// "[2, 3]", the spelling every error message uses.
std::string shape_to_string(const Shape& shape);

// Number of elements of a tensor of this shape (1 for a 0-d tensor).
std::int64_t shape_numel(const Shape& shape);

// The shape two operands broadcast to, as torch.broadcast_shapes; throws std::invalid_argument
// naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Maps a possibly negative dim into [0, ndim); throws std::out_of_range naming `op`.
// A 0-d tensor accepts dims 0 and -1, as in PyTorch.
std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, const char* op);

// Every shape a tensor is built with passes here once. Returns its element count after checking
// that no size is negative and that the count, and its size in bytes at `element_size` bytes an
// element, fit in int64 (PyTorch's "Storage size calculation overflowed"). Stricter than PyTorch
// for empty tensors: the product of the nonzero sizes must fit as well, so [0, 2^62, 4] is
// refused (every product of sizes a kernel forms then fits). Throws std::invalid_argument naming
// `op`; with op == nullptr (a kernel's result, whose op it does not know) the message names none.
std::int64_t check_shape(std::span<const std::int64_t> shape, const char* op,
                         std::size_t element_size = 1);
std::int64_t check_shape(std::span<const std::size_t> sizes, const char* op,
                         std::size_t element_size = 1);

}  // namespace xg
