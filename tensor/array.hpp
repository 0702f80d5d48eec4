// xg::Array: a strided view of a reference-counted buffer on xgrad's caching allocator, tagged
// with its dtype. Several arrays may share one buffer (views); the buffer carries the version
// counter that in-place changes through any of them bump.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "dtype.hpp"
#include "shape.hpp"
#include "small_vector.hpp"

namespace xg {
namespace detail {

// The bytes of one or more arrays, and how many in-place changes they have seen.
struct StorageImpl {
  explicit StorageImpl(std::size_t nbytes);
  ~StorageImpl();
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;
  void* data;
  std::size_t nbytes;
  std::atomic<std::uint64_t> version{0};
};

// A contiguous array of T seen as a range, for kernels that read or write every element in
// row-major order (Array::visit hands one over).
template <class T>
struct DenseRef {
  using value_type = T;
  T* ptr;
  std::span<const std::int64_t> sizes;
  std::size_t count;
  T* data() const { return ptr; }
  std::size_t size() const { return count; }
  std::span<const std::int64_t> shape() const { return sizes; }
  std::size_t dimension() const { return sizes.size(); }
  T* begin() const { return ptr; }
  T* end() const { return ptr + count; }
};

}  // namespace detail

// Numbers only: no graph and no grad. Every kernel takes and returns Arrays. Copying an Array
// copies the view, not the data: the copy aliases it (clone() copies the data).
class Array {
 public:
  using Sizes = Shape;    // sizes of the dims
  using Strides = Shape;  // element strides, one per dim

  Array();  // a 0-d Float32 zero

  // Uninitialized contiguous storage of the given dtype and shape.
  static Array empty(Dtype dtype, const Shape& shape);
  // The same from an existing array's sizes, without building a Shape.
  static Array empty_with_sizes(Dtype dtype, std::span<const std::int64_t> sizes);
  static Array full(Dtype dtype, const Shape& shape, double value);

  Dtype dtype() const { return dtype_; }
  std::size_t dim() const { return sizes_.size(); }
  std::int64_t numel() const { return numel_; }
  const Shape& sizes() const { return sizes_; }
  const Shape& strides() const { return strides_; }
  std::int64_t offset() const { return offset_; }  // in elements, from the buffer's start
  Shape shape() const;
  Shape stride_vector() const;

  // Row-major with no gaps (dims of size 1 may have any stride), as torch's is_contiguous.
  bool is_contiguous() const { return contiguous_; }
  // A dim of stride 0 and size > 1 (an expanded view): in-place writes are refused.
  bool has_internal_overlap() const;
  // This array itself when contiguous, else a contiguous copy.
  Array contiguous() const { return contiguous_ ? *this : clone(); }
  // A contiguous copy of the data in a new buffer.
  Array clone() const;
  // A view of the same buffer with these sizes, element strides and offset (unchecked: the
  // caller keeps it inside the buffer).
  Array view(std::span<const std::int64_t> sizes, std::span<const std::int64_t> strides,
             std::int64_t offset) const;
  // The same data seen with its dims in `dims` order.
  Array permuted(std::span<const std::int64_t> dims) const;
  // A contiguous array seen with new sizes (same count).
  Array reshaped_contiguous(std::span<const std::int64_t> sizes) const;

  // The first element of the view; the element type must match the dtype.
  template <class T>
  T* data() const {
    return static_cast<T*>(storage_->data) + offset_;
  }
  const std::shared_ptr<detail::StorageImpl>& storage() const { return storage_; }
  std::size_t storage_elements() const { return storage_->nbytes / element_size(dtype_); }
  bool shares_storage(const Array& other) const { return storage_ == other.storage_; }
  bool same_view(const Array& other) const;
  std::uint64_t version() const { return storage_->version.load(std::memory_order_relaxed); }
  void bump_version() const { storage_->version.fetch_add(1, std::memory_order_relaxed); }

  // Calls f(detail::DenseRef<T>) over the elements; the array must be contiguous.
  template <class F>
  decltype(auto) visit(F&& f) const {
    check_dense();
    switch (dtype_) {
      case Dtype::Float32:
        return f(dense<float>());
      case Dtype::Float64:
        return f(dense<double>());
      case Dtype::Bool:
        return f(dense<bool>());
      default:
        return f(dense<std::int64_t>());
    }
  }

  // A converted contiguous copy; this array itself when the dtype already matches.
  Array to(Dtype dtype) const;
  // Element i in row-major order, as a double.
  double at(std::int64_t i) const;

 private:
  struct NoInit {};
  explicit Array(NoInit) {}
  template <class T>
  detail::DenseRef<T> dense() const {
    return {data<T>(), sizes(), static_cast<std::size_t>(numel_)};
  }
  void check_dense() const;
  void finish_geometry();  // sets numel_ and contiguous_ from sizes_ and strides_

  std::shared_ptr<detail::StorageImpl> storage_;
  Dtype dtype_ = Dtype::Float32;
  Sizes sizes_;
  Strides strides_;
  std::int64_t offset_ = 0;
  std::int64_t numel_ = 1;
  bool contiguous_ = true;
};

namespace detail {

// dst = src, broadcast to dst's shape and converted to its dtype; both may be strided.
void copy_into(const Array& dst, const Array& src);

// Sets out to the row-major strides of a contiguous array of these sizes.
void contiguous_strides(std::span<const std::int64_t> sizes, Array::Strides& out);

// Calls f(T{}) with the C++ element type of dtype (float, double, int64_t or bool).
template <class F>
decltype(auto) dispatch(Dtype dtype, F&& f) {
  switch (dtype) {
    case Dtype::Float32:
      return f(float{});
    case Dtype::Float64:
      return f(double{});
    case Dtype::Bool:
      return f(bool{});
    default:
      return f(std::int64_t{});
  }
}

// Calls f(T{}) for floating dtypes only (Int64 and Bool are not expected there).
template <class F>
decltype(auto) dispatch_floating(Dtype dtype, F&& f) {
  if (dtype == Dtype::Float64) return f(double{});
  return f(float{});
}

}  // namespace detail
}  // namespace xg
