// Shapes: the xg::Shape type, broadcasting, and dim checks shared by every op.
#pragma once

#include <cstdint>
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

// Throws std::invalid_argument naming `op` when a size is negative.
void check_shape(const Shape& shape, const char* op);

}  // namespace xg
