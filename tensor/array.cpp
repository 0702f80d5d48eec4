#include "array.hpp"

#include <algorithm>
#include <new>
#include <string>

#include "allocator.hpp"
#include "check.hpp"
#include "memory.hpp"
#include "object_pool.hpp"
#include "parallel.hpp"
#include "scalar.hpp"
#include "strided_loop.hpp"

namespace xg {
namespace detail {

StorageImpl::StorageImpl(std::size_t n) : data(allocate_bytes(n)), nbytes(n) {}
StorageImpl::~StorageImpl() { free_bytes(data, nbytes); }

void contiguous_strides(std::span<const std::int64_t> sizes, Array::Strides& out) {
  out.resize(sizes.size());
  std::int64_t s = 1;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    out[d] = s;
    s *= sizes[d];
  }
}

}  // namespace detail

namespace {

// 128 TiB, the user address space of x86-64 and AArch64 with 48-bit addresses: a larger request
// is refused without asking, since sanitizers' allocators abort on such requests instead of
// failing them.
constexpr std::uint64_t kMaxAllocation = std::uint64_t{1} << 47;

// A buffer for numel elements of a shape that check_shape passed; running out of memory names
// the bytes asked for.
std::shared_ptr<detail::StorageImpl> allocate(Dtype dtype, std::span<const std::int64_t> sizes,
                                              std::int64_t numel) {
  const auto bytes = static_cast<std::uint64_t>(numel) * element_size(dtype);
  try {
    if (bytes >= kMaxAllocation) throw std::bad_alloc();
    return detail::make_pooled<detail::StorageImpl>(static_cast<std::size_t>(bytes));
  } catch (const std::bad_alloc&) {
    throw OutOfMemoryError("out of memory: cannot allocate " + std::to_string(bytes) +
                           " bytes for a " + shape_to_string(Shape(sizes.begin(), sizes.end())) +
                           " " + std::string(dtype_name(dtype)) + " tensor");
  }
}

}  // namespace

Array::Array() : storage_(allocate(Dtype::Float32, {}, 1)) {
  *static_cast<float*>(storage_->data) = 0.0F;
}

void Array::finish_geometry() {
  numel_ = 1;
  for (auto s : sizes_) numel_ *= static_cast<std::int64_t>(s);
  contiguous_ = true;
  std::int64_t expected = 1;
  for (std::size_t d = sizes_.size(); d-- > 0;) {
    if (sizes_[d] == 1) continue;
    if (strides_[d] != expected) {
      contiguous_ = numel_ == 0;
      break;
    }
    expected *= static_cast<std::int64_t>(sizes_[d]);
  }
}

Array Array::empty(Dtype dtype, const Shape& shape) {
  return empty_with_sizes(dtype, {shape.data(), shape.size()});
}

// Every buffer is allocated here: its shape is checked for overflow first (a kernel's result
// shape is derived from checked shapes, but a size-0 dim lets the others grow past int64), and
// running out of memory names the bytes asked for.
Array Array::empty_with_sizes(Dtype dtype, std::span<const std::int64_t> sizes) {
  const std::int64_t numel = check_shape(sizes, nullptr, element_size(dtype));
  Array out{NoInit{}};
  out.storage_ = allocate(dtype, sizes, numel);
  out.dtype_ = dtype;
  out.sizes_.assign(sizes.begin(), sizes.end());
  detail::contiguous_strides(sizes, out.strides_);
  out.numel_ = numel;
  out.contiguous_ = true;
  return out;
}

Array Array::full(Dtype dtype, const Shape& shape, double value) {
  Array out = empty(dtype, shape);
  out.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    T* p = a.data();
    detail::parallel_for(
        static_cast<std::int64_t>(a.size()), detail::kGrainCopy,
        [&](std::int64_t b, std::int64_t e) { std::fill(p + b, p + e, static_cast<T>(value)); });
  });
  return out;
}

Shape Array::shape() const { return Shape(sizes_.begin(), sizes_.end()); }
Shape Array::stride_vector() const { return Shape(strides_.begin(), strides_.end()); }

bool Array::has_internal_overlap() const {
  // As PyTorch's has_internal_overlap: a dim of stride 0 (an expanded one) is known to overlap;
  // other overlaps (as_strided) are too costly to detect and are written in order.
  if (contiguous_) return false;
  for (std::size_t d = 0; d < sizes_.size(); ++d) {
    if (sizes_[d] > 1 && strides_[d] == 0) return true;
  }
  return false;
}

bool Array::same_view(const Array& other) const {
  return storage_ == other.storage_ && dtype_ == other.dtype_ && offset_ == other.offset_ &&
         sizes_ == other.sizes_ && strides_ == other.strides_;
}

Array Array::view(std::span<const std::int64_t> sizes, std::span<const std::int64_t> strides,
                  std::int64_t offset) const {
  Array out{NoInit{}};
  out.storage_ = storage_;
  out.dtype_ = dtype_;
  out.sizes_ = Sizes(sizes.begin(), sizes.end());
  out.strides_ = Strides(strides.begin(), strides.end());
  out.offset_ = offset;
  out.finish_geometry();
  return out;
}

Array Array::permuted(std::span<const std::int64_t> dims) const {
  Sizes sizes(dims.size());
  Strides strides(dims.size());
  for (std::size_t i = 0; i < dims.size(); ++i) {
    sizes[i] = sizes_[static_cast<std::size_t>(dims[i])];
    strides[i] = strides_[static_cast<std::size_t>(dims[i])];
  }
  return view({sizes.data(), sizes.size()}, {strides.data(), strides.size()}, offset_);
}

Array Array::reshaped_contiguous(std::span<const std::int64_t> sizes) const {
  check_dense();
  Strides strides;
  detail::contiguous_strides(sizes, strides);
  return view(sizes, {strides.data(), strides.size()}, offset_);
}

void Array::check_dense() const {
  XG_CHECK_LOGIC(contiguous_, "internal: a kernel read a strided array as dense");
}

namespace {

// dst = src (broadcast to dst's shape, converted to dst's dtype), both strided.
template <class R, class T>
void copy_loop(const Array& src, const Array& dst) {
  const T* in = src.data<T>();
  R* out = dst.data<R>();
  detail::StridedLoop<2> loop(dst.sizes(), {detail::Operand{dst.sizes(), dst.strides()},
                                            detail::Operand{src.sizes(), src.strides()}});
  auto row = [&](const std::array<std::int64_t, 2>& off, std::int64_t n,
                 const std::array<std::int64_t, 2>& s) {
    R* o = out + off[0];
    const T* x = in + off[1];
    auto convert = [](T v) {
      if constexpr (std::is_same_v<R, bool>) {
        return v != T(0);  // nonzero (NaN included) is true, as PyTorch's .to(bool)
      } else if constexpr (std::is_integral_v<R> && !std::is_integral_v<T>) {
        return truncate_to_int64(v);  // NaN and overflow defined, as PyTorch's .to(int64)
      } else {
        return static_cast<R>(v);
      }
    };
    if (s[0] == 1 && s[1] == 1) {
      for (std::int64_t i = 0; i < n; ++i) o[i] = convert(x[i]);
    } else {
      for (std::int64_t i = 0; i < n; ++i) o[i * s[0]] = convert(x[i * s[1]]);
    }
  };
  // Rows split across the threads, unless two rows of dst share memory (an expanded dst is
  // written in order, as PyTorch does).
  if (dst.has_internal_overlap()) {
    loop.for_each_row(row);
    return;
  }
  detail::parallel_for(loop.row_count(),
                       detail::kGrainCopy / std::max<std::int64_t>(loop.row_length(), 1),
                       [&](std::int64_t b, std::int64_t e) { loop.for_each_row_in(b, e, row); });
}

}  // namespace

namespace detail {
void copy_into(const Array& dst, const Array& src) {
  if (dst.numel() == 0) return;
  dispatch(dst.dtype(), [&](auto r) {
    dispatch(src.dtype(), [&](auto t) { copy_loop<decltype(r), decltype(t)>(src, dst); });
  });
}
}  // namespace detail

Array Array::clone() const {
  Array out = empty_with_sizes(dtype_, sizes());
  detail::copy_into(out, *this);
  return out;
}

Array Array::to(Dtype dtype) const {
  if (dtype == dtype_) return *this;
  Array out = empty_with_sizes(dtype, sizes());
  detail::copy_into(out, *this);
  return out;
}

double Array::at(std::int64_t i) const {
  std::int64_t pos = offset_;
  for (std::size_t d = sizes_.size(); d-- > 0;) {
    const auto size = static_cast<std::int64_t>(sizes_[d]);
    pos += (i % size) * strides_[d];
    i /= size;
  }
  return detail::dispatch(dtype_, [&](auto t) {
    using T = decltype(t);
    return static_cast<double>(static_cast<const T*>(storage_->data)[pos]);
  });
}

}  // namespace xg
