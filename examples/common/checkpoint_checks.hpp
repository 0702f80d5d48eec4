// What the examples check in a checkpoint before resuming from it, beyond the format, names and
// shapes that xg::load checks: the metadata they wrote, and the dtype. load_state_dict converts
// between floating-point dtypes as torch's does, so a model alone would resume a Float64 run in
// Float32 silently; only an optimizer's state (AdamW's moments, a momentum) refused it.
#pragma once

#include <limits>
#include <stdexcept>
#include <string>
#include <xgrad/xgrad.hpp>

#include "strict_numbers.hpp"

namespace examples {

// Reads the checkpoint at `path` and returns its metadata, after checking that the model's
// tensors in it (saved alone, or under "model." beside an optimizer) are of the dtypes of
// `model`'s own. (An optimizer's options are Float64 whatever the model's dtype.)
inline xg::Metadata check_checkpoint(const std::string& path, const xg::nn::Module& model) {
  xg::Metadata metadata;
  const xg::TensorMap tensors = xg::load(path, &metadata);
  for (const auto& [name, own] : xg::state_dict(model)) {
    for (const std::string& key : {name, "model." + name}) {
      const auto it = tensors.find(key);
      if (it == tensors.end() || it->second.dtype() == own.dtype() ||
          !it->second.is_floating_point()) {
        continue;  // what is missing or not floating point, xg::load refuses
      }
      throw std::invalid_argument("--resume: " + path + " holds '" + key + "' in " +
                                  std::string(xg::dtype_name(it->second.dtype())) +
                                  ", but this run is in " +
                                  std::string(xg::dtype_name(own.dtype())));
    }
  }
  return metadata;
}

// The metadata entry `key` of the checkpoint at `path`.
inline const std::string& required_metadata(const xg::Metadata& metadata, const std::string& key,
                                            const std::string& path) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) {
    throw std::invalid_argument("--resume: " + path + " has no '" + key + "' in its metadata");
  }
  return it->second;
}

// A step count written in the checkpoint at `path` under `name`, read as a whole number from 0
// to the largest a T holds.
template <std::integral T>
T checkpoint_step(const std::string& text, const std::string& name, const std::string& path) {
  constexpr T max = std::numeric_limits<T>::max();
  const std::optional<T> step = parse_whole_number(text, T{0}, max);
  if (!step) {
    throw std::invalid_argument("--resume: " + path + ": " + name + " " +
                                not_a_whole_number(text, T{0}, max));
  }
  return *step;
}

}  // namespace examples
