// Internal to xgrad::distributed: the process group's MPI communicator, for the modules built on
// the collectives (DistributedDataParallel). Not installed.
#pragma once

#include <mpi.h>

namespace xg::distributed::detail {

// The group's communicator; std::runtime_error naming `op` when the group is not initialized.
MPI_Comm communicator(const char* op);
// Throws std::runtime_error with MPI's message when `code` is not MPI_SUCCESS.
void check_mpi(int code, const char* op);
MPI_Datatype mpi_type(Dtype dtype);

}  // namespace xg::distributed::detail
