// Checkpoints in the safetensors format: named tensors, modules and optimizer state, saved
// atomically and loaded with every rule of the format checked.
#pragma once

#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../autograd/tensor.hpp"
#include "../optim/optimizer.hpp"
#include "module.hpp"

namespace xg {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

// Writes a safetensors file: an 8-byte little-endian header length, a JSON header (dtype F32,
// F64 or I64, shape, data_offsets; __metadata__ of strings) padded to 8 bytes, then the data
// in name order. The file is written under a temporary name in the same directory and renamed,
// so a failure leaves any earlier file at `path` as it was. A symlink at `path` is written
// through (the file it leads to is replaced; the link stays), an existing file keeps its
// permission bits, and a target that is not a regular file (a directory, a FIFO, a device) is
// refused before anything is written. Throws std::invalid_argument for a name that cannot be
// saved (not UTF-8, say) and std::runtime_error for a target or an I/O failure.
void save(const TensorMap& tensors, const std::string& path, const Metadata& metadata = {});
// Reads a safetensors file, checking every rule of the format first: throws
// std::invalid_argument (a malformed file) or std::runtime_error (cannot read), with the reason.
// Time and memory are linear in the file's size whatever its header holds; a header is at most
// 100,000,000 bytes and a tensor at most 16 dims.
TensorMap load(const std::string& path, Metadata* metadata = nullptr);
// The same from a seekable stream holding a whole file's bytes (an std::istringstream, say), as
// safetensors.torch.load(bytes). Messages name the file "<stream>". Reads no more than the
// stream holds, and allocates no more than its size.
TensorMap load(std::istream& in, Metadata* metadata = nullptr);

// A module's parameters and buffers by dotted name ("fc1.weight").
TensorMap state_dict(const nn::Module& module);

// What a non-strict load_state_dict did not load, as PyTorch's _IncompatibleKeys: the module's
// names the state lacks (in the module's registration order) and the state's names the module
// lacks (in name order). Both empty after a strict load.
struct IncompatibleKeys {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
  bool empty() const { return missing_keys.empty() && unexpected_keys.empty(); }
};

// Copies `tensors` into the module's parameters and buffers in place. With strict (the
// default), every name must match, none may be missing or extra; with strict false, the
// matching names are loaded, the others are left as they are and returned. Either way, a
// matched name whose shape differs, or whose dtype cannot be loaded (Float32 and Float64 load
// into each other; Int64 and Bool only into themselves), throws std::invalid_argument and
// changes nothing.
IncompatibleKeys load_state_dict(nn::Module& module, const TensorMap& tensors, bool strict = true);

// A module's state_dict to a file and back (with load_state_dict's checks).
void save(const nn::Module& module, const std::string& path, const Metadata& metadata = {});
IncompatibleKeys load(nn::Module& module, const std::string& path, Metadata* metadata = nullptr,
                      bool strict = true);
// An optimizer's state_dict; its kind goes in the metadata under "optimizer".
void save(const optim::Optimizer& optimizer, const std::string& path);
void load(optim::Optimizer& optimizer, const std::string& path);
// A training checkpoint: the module under "model.", the optimizer under "optimizer.", plus the
// caller's metadata (the step, say). Loading checks both before changing either.
void save(const nn::Module& module, const optim::Optimizer& optimizer, const std::string& path,
          const Metadata& metadata = {});
void load(nn::Module& module, optim::Optimizer& optimizer, const std::string& path,
          Metadata* metadata = nullptr);

// The same for a module held by std::shared_ptr.
template <class M>
void save(const std::shared_ptr<M>& module, const std::string& path) {
  save(static_cast<const nn::Module&>(*module), path);
}
template <class M>
IncompatibleKeys load(const std::shared_ptr<M>& module, const std::string& path,
                      Metadata* metadata = nullptr, bool strict = true) {
  return load(static_cast<nn::Module&>(*module), path, metadata, strict);
}

}  // namespace xg
