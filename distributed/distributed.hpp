// Collective communication between processes, as torch.distributed with its MPI backend: a
// program started N times by `mpirun -np N` (on one machine or on several) forms one process
// group, and each collective is called by every process with a tensor of the same shape and
// dtype. Built as the separate library xgrad::distributed when CMake finds MPI; the core
// library never depends on it. Include <xgrad/distributed/distributed.hpp>.
#pragma once

#include <vector>

#include "../autograd/tensor.hpp"

namespace xg::distributed {

// How all_reduce and reduce_scatter combine the ranks' tensors, as torch.distributed.ReduceOp.
// Avg (the sum divided by the world size) needs a floating-point tensor.
enum class ReduceOp { Sum, Avg, Max, Min };

// True when this process was started by mpirun or mpiexec (Open MPI's OMPI_COMM_WORLD_SIZE, or
// the PMI_SIZE / PMIX_RANK of another launcher is in its environment), as torch.distributed's
// is_torchelastic_launched: a program can call init_process_group only then, and run alone
// without MPI otherwise.
bool is_mpi_launched();

// Forms the process group from mpirun's environment (MPI_Init when nobody has, then a
// communicator of its own). A program run without mpirun is a group of one. Throws
// std::runtime_error when the group already exists.
void init_process_group();
bool is_initialized();
// Ends the group; init_process_group may form it again. MPI itself is finalized at exit.
void destroy_process_group();

// Ends every process of the job with `errorcode` (MPI_Abort on MPI_COMM_WORLD; mpirun then
// stops the other ranks): for a rank that cannot go on, since the others would wait for it in
// their next collective forever. Without MPI initialised, std::exit(errorcode).
[[noreturn]] void abort(int errorcode = 1);

// This process's rank in [0, world size) and the number of processes. Every function below
// throws std::runtime_error when the group has not been initialised.
int get_rank();
int get_world_size();
// Returns when every rank has called it.
void barrier();

// The collectives take Float32, Float64 and Int64 tensors, contiguous or not (a non-contiguous
// one is sent from a contiguous copy and the result copied back into it). Before any data moves
// the ranks compare what they were given: a different shape, dtype, op or source on any rank
// makes every rank throw std::invalid_argument naming the first rank that differs. A tensor
// changed in place must not require grad while grad mode is on (as any in-place op on a leaf);
// use NoGradGuard for parameters and gradients.

// Every rank's `tensor` becomes the reduction of all ranks' tensors.
void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::Sum);
// Every rank's `tensor` becomes rank `src`'s.
void broadcast(Tensor& tensor, int src);
// `out` gets every rank's `tensor`, in rank order: when empty, world size new tensors; else it
// must hold world size tensors of tensor's shape and dtype, which are written in place.
void all_gather(std::vector<Tensor>& out, const Tensor& tensor);
// `inputs` holds world size tensors of output's shape and dtype; rank r's `output` becomes the
// reduction over the ranks of their inputs[r].
void reduce_scatter(Tensor& output, const std::vector<Tensor>& inputs, ReduceOp op = ReduceOp::Sum);

}  // namespace xg::distributed
