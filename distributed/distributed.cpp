#include "distributed.hpp"

#include <mpi.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include "../autograd/creation.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"
#include "../tensor/check.hpp"
#include "group.hpp"

namespace xg::distributed {

namespace {

struct Group {
  bool initialized = false;
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0, size = 1;
};

Group& group() {
  static Group g;
  return g;
}

// MPI_Finalize at exit when init_process_group called MPI_Init (a program that initialised MPI
// itself finalizes it itself).
void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (group().comm != MPI_COMM_NULL) MPI_Comm_free(&group().comm);
  MPI_Finalize();
}

void check_mpi(int code, const char* op) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  XG_CHECK_STATE(false, op, ": MPI failed: ", std::string(text, static_cast<std::size_t>(length)));
}

const Group& initialized(const char* op) {
  XG_CHECK_STATE(group().initialized, op,
                 ": the process group has not been initialized; call "
                 "xg::distributed::init_process_group() first");
  return group();
}

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
      return "Sum";
    case ReduceOp::Avg:
      return "Avg";
    case ReduceOp::Max:
      return "Max";
    default:
      return "Min";
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Max:
      return MPI_MAX;
    case ReduceOp::Min:
      return MPI_MIN;
    default:
      return MPI_SUM;  // Avg: the sum, then divided
  }
}

MPI_Datatype mpi_type(Dtype dtype) {
  switch (dtype) {
    case kFloat32:
      return MPI_FLOAT;
    case kFloat64:
      return MPI_DOUBLE;
    default:
      return MPI_INT64_T;
  }
}

std::string describe(const Tensor& t) {
  return shape_to_string(t.shape()) + " " + std::string(dtype_name(t.dtype()));
}

void check_tensor(const char* op, const Tensor& t) {
  XG_CHECK_ARG(t.defined(), op, ": got an undefined tensor (default-constructed xg::Tensor)");
  XG_CHECK_ARG(t.dtype() == kFloat32 || t.dtype() == kFloat64 || t.dtype() == kInt64, op,
               ": expected a Float32, Float64 or Int64 tensor, got ", describe(t));
}

// A tensor a collective writes into.
void check_writable(const char* op, const Tensor& t) {
  check_tensor(op, t);
  XG_CHECK_STATE(!(t.requires_grad() && GradMode::is_enabled()), op, ": the tensor requires grad (",
                 describe(t),
                 "); a collective writes it in place, which autograd cannot record: wrap the "
                 "call in xg::NoGradGuard, or pass a detach()ed tensor");
}

void check_op(const char* op, ReduceOp reduce, const Tensor& t) {
  XG_CHECK_ARG(reduce != ReduceOp::Avg || t.dtype() != kInt64, op,
               ": ReduceOp::Avg needs a floating-point tensor, got ", describe(t));
}

// What one rank was given, to compare across ranks before any data moves: the tensor's dtype,
// rank and sizes, and the call's op or source.
constexpr int kMaxDims = 16;
using Descriptor = std::array<std::int64_t, 3 + kMaxDims>;

Descriptor descriptor(const Tensor& t, std::int64_t argument) {
  Descriptor d{};
  d[0] = static_cast<std::int64_t>(t.dtype());
  d[1] = t.dim();
  d[2] = argument;
  for (std::int64_t i = 0; i < t.dim() && i < kMaxDims; ++i) {
    d[static_cast<std::size_t>(3 + i)] = t.size(i);
  }
  return d;
}

std::string describe(const Descriptor& d) {
  Shape shape;
  for (std::int64_t i = 0; i < d[1] && i < kMaxDims; ++i) {
    shape.push_back(d[static_cast<std::size_t>(3 + i)]);
  }
  return shape_to_string(shape) + " " + std::string(dtype_name(static_cast<Dtype>(d[0])));
}

// Every rank throws the same std::invalid_argument when any rank's call differs from rank 0's.
// `argument_name` names the call's argument (the op, the source); null when there is none.
void check_same_on_every_rank(const char* op, const Group& g, const Tensor& t,
                              std::int64_t argument, const char* argument_name,
                              const char* (*argument_text)(std::int64_t) = nullptr) {
  XG_CHECK_ARG(t.dim() <= kMaxDims, op, ": a tensor of at most ", kMaxDims, " dims, got ",
               describe(t));
  const Descriptor mine = descriptor(t, argument);
  std::vector<Descriptor> all(static_cast<std::size_t>(g.size));
  check_mpi(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_INT64_T, all.data(),
                          static_cast<int>(mine.size()), MPI_INT64_T, g.comm),
            op);
  for (int r = 1; r < g.size; ++r) {
    const Descriptor& first = all[0];
    const Descriptor& other = all[static_cast<std::size_t>(r)];
    if (other == first) continue;
    if (argument_name && other[2] != first[2]) {
      const std::string a = argument_text ? argument_text(first[2]) : std::to_string(first[2]);
      const std::string b = argument_text ? argument_text(other[2]) : std::to_string(other[2]);
      XG_CHECK_ARG(false, op, ": rank 0 gives ", argument_name, " ", a, " but rank ", r, " gives ",
                   b);
    }
    XG_CHECK_ARG(false, op, ": rank 0 has ", describe(first), " but rank ", r, " has ",
                 describe(other));
  }
}

const char* op_text(std::int64_t op) { return op_name(static_cast<ReduceOp>(op)); }

// Runs `send` on a contiguous tensor holding t's values and copies the result back into t when
// t is not contiguous itself.
template <class F>
void in_place(Tensor& t, F&& send) {
  Tensor buffer = t.contiguous();
  send(buffer);
  if (!t.is_contiguous()) {
    NoGradGuard no_grad;
    t.copy_(buffer);
  }
}

void* bytes(Tensor& t) {
  switch (t.dtype()) {
    case kFloat32:
      return t.data_ptr<float>();
    case kFloat64:
      return t.data_ptr<double>();
    default:
      return t.data_ptr<std::int64_t>();
  }
}

int count_of(const Tensor& t, const char* op) {
  XG_CHECK_ARG(t.numel() <= std::numeric_limits<int>::max(), op, ": ", describe(t),
               " has more elements than one MPI call sends (", std::numeric_limits<int>::max(),
               ")");
  return static_cast<int>(t.numel());
}

}  // namespace

namespace detail {
MPI_Comm communicator(const char* op) { return initialized(op).comm; }
void check_mpi(int code, const char* op) { distributed::check_mpi(code, op); }
MPI_Datatype mpi_type(Dtype dtype) { return distributed::mpi_type(dtype); }
}  // namespace detail

bool is_mpi_launched() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

void abort(int errorcode) {
  int mpi_initialized = 0, mpi_finalized = 0;
  MPI_Initialized(&mpi_initialized);
  MPI_Finalized(&mpi_finalized);
  if (mpi_initialized && !mpi_finalized) MPI_Abort(MPI_COMM_WORLD, errorcode);
  std::exit(errorcode);
}

void init_process_group() {
  Group& g = group();
  XG_CHECK_STATE(!g.initialized,
                 "init_process_group: the process group is already initialized (call "
                 "destroy_process_group first)");
  int mpi_initialized = 0;
  MPI_Initialized(&mpi_initialized);
  if (!mpi_initialized) {
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided),
              "init_process_group");
    std::atexit(finalize_at_exit);
  }
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &g.comm), "init_process_group");
  // Errors come back as codes, turned into exceptions, rather than aborting the job.
  MPI_Comm_set_errhandler(g.comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(g.comm, &g.rank);
  MPI_Comm_size(g.comm, &g.size);
  g.initialized = true;
}

bool is_initialized() { return group().initialized; }

void destroy_process_group() {
  Group& g = group();
  initialized("destroy_process_group");
  MPI_Comm_free(&g.comm);
  g = Group{};
}

int get_rank() { return initialized("get_rank").rank; }

int get_world_size() { return initialized("get_world_size").size; }

void barrier() {
  const Group& g = initialized("barrier");
  check_mpi(MPI_Barrier(g.comm), "barrier");
}

void all_reduce(Tensor& tensor, ReduceOp op) {
  constexpr const char* name = "all_reduce";
  const Group& g = initialized(name);
  check_writable(name, tensor);
  check_op(name, op, tensor);
  check_same_on_every_rank(name, g, tensor, static_cast<std::int64_t>(op), "op", op_text);
  const int count = count_of(tensor, name);
  in_place(tensor, [&](Tensor& buffer) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, bytes(buffer), count, mpi_type(buffer.dtype()),
                            mpi_op(op), g.comm),
              name);
    if (op == ReduceOp::Avg) {
      NoGradGuard no_grad;
      buffer.div_(static_cast<double>(g.size));
    }
  });
}

void broadcast(Tensor& tensor, int src) {
  constexpr const char* name = "broadcast";
  const Group& g = initialized(name);
  check_writable(name, tensor);
  XG_CHECK_RANGE(src >= 0 && src < g.size, name, ": src ", src, " is not a rank of a group of ",
                 g.size);
  check_same_on_every_rank(name, g, tensor, src, "src");
  const int count = count_of(tensor, name);
  in_place(tensor, [&](Tensor& buffer) {
    check_mpi(MPI_Bcast(bytes(buffer), count, mpi_type(buffer.dtype()), src, g.comm), name);
  });
}

void all_gather(std::vector<Tensor>& out, const Tensor& tensor) {
  constexpr const char* name = "all_gather";
  const Group& g = initialized(name);
  check_tensor(name, tensor);
  const auto n = static_cast<std::size_t>(g.size);
  XG_CHECK_ARG(out.empty() || out.size() == n, name, ": the output list holds ", out.size(),
               " tensors; give an empty one, or one of world size (", n, ") tensors");
  for (std::size_t r = 0; r < out.size(); ++r) {
    check_writable(name, out[r]);
    XG_CHECK_ARG(out[r].shape() == tensor.shape() && out[r].dtype() == tensor.dtype(), name,
                 ": output ", r, " is ", describe(out[r]), " but the tensor is ", describe(tensor));
  }
  check_same_on_every_rank(name, g, tensor, 0, nullptr);
  const int count = count_of(tensor, name);
  // Every rank's values side by side in one buffer, then into the outputs.
  Shape gathered_shape = tensor.shape();
  gathered_shape.insert(gathered_shape.begin(), g.size);
  Tensor gathered = empty(gathered_shape, tensor.dtype());
  Tensor mine = tensor.contiguous();
  check_mpi(MPI_Allgather(bytes(mine), count, mpi_type(tensor.dtype()), bytes(gathered), count,
                          mpi_type(tensor.dtype()), g.comm),
            name);
  NoGradGuard no_grad;
  if (out.empty()) {
    for (int r = 0; r < g.size; ++r) out.push_back(gathered.select(0, r).clone());
  } else {
    for (int r = 0; r < g.size; ++r) out[static_cast<std::size_t>(r)].copy_(gathered.select(0, r));
  }
}

void reduce_scatter(Tensor& output, const std::vector<Tensor>& inputs, ReduceOp op) {
  constexpr const char* name = "reduce_scatter";
  const Group& g = initialized(name);
  check_writable(name, output);
  check_op(name, op, output);
  XG_CHECK_ARG(inputs.size() == static_cast<std::size_t>(g.size), name, ": the input list holds ",
               inputs.size(), " tensors, one per rank (", g.size, ") expected");
  for (std::size_t r = 0; r < inputs.size(); ++r) {
    check_tensor(name, inputs[r]);
    XG_CHECK_ARG(inputs[r].shape() == output.shape() && inputs[r].dtype() == output.dtype(), name,
                 ": input ", r, " is ", describe(inputs[r]), " but the output is ",
                 describe(output));
  }
  check_same_on_every_rank(name, g, output, static_cast<std::int64_t>(op), "op", op_text);
  const int count = count_of(output, name);
  Tensor packed;
  {
    NoGradGuard no_grad;
    packed = stack(inputs).contiguous();
  }
  in_place(output, [&](Tensor& buffer) {
    check_mpi(MPI_Reduce_scatter_block(bytes(packed), bytes(buffer), count,
                                       mpi_type(output.dtype()), mpi_op(op), g.comm),
              name);
    if (op == ReduceOp::Avg) {
      NoGradGuard no_grad;
      buffer.div_(static_cast<double>(g.size));
    }
  });
}

}  // namespace xg::distributed
