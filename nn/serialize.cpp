#include "serialize.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "../autograd/creation.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/check.hpp"
#include "replace_file.hpp"
#include "safetensors_header.hpp"

namespace xg {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; xgrad reads and writes it as in memory");

namespace {

constexpr std::uint64_t kMaxHeader = 100'000'000;  // the safetensors reference's MAX_HEADER_SIZE

std::string io_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

const void* raw_data(const Tensor& t) {
  switch (t.dtype()) {
    case kFloat32:
      return t.data_ptr<float>();
    case kFloat64:
      return t.data_ptr<double>();
    case kBool:
      return t.data_ptr<bool>();
    default:
      return t.data_ptr<std::int64_t>();
  }
}

// `text` with its bytes past ASCII written as \xhh, for a message about text that is not UTF-8.
std::string escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    }
  }
  return out;
}

// Throws unless every name and metadata string can go into the JSON header.
void check_names(const TensorMap& tensors, const Metadata& metadata) {
  for (const auto& [name, t] : tensors) {
    XG_CHECK_ARG(name != "__metadata__" && !name.empty(), "save: '", name,
                 "' cannot name a tensor");
    XG_CHECK_ARG(detail::is_utf8(name), "save: the tensor name '", escaped(name),
                 "' is not valid UTF-8");
    XG_CHECK_ARG(t.defined(), "save: tensor '", name, "' is undefined");
  }
  for (const auto& [key, value] : metadata) {
    XG_CHECK_ARG(detail::is_utf8(key), "save: the metadata key '", escaped(key),
                 "' is not valid UTF-8");
    XG_CHECK_ARG(detail::is_utf8(value), "save: the metadata value of '", key,
                 "' is not valid UTF-8");
  }
}

}  // namespace

void save(const TensorMap& tensors, const std::string& path, const Metadata& metadata) {
  check_names(tensors, metadata);
  // The header is written entry by entry: an ordered_json object searches its keys on each
  // insertion, quadratic in the number of tensors (and the names are unique already).
  std::string text = "{";
  auto add = [&text](const std::string& key, const nlohmann::ordered_json& value) {
    if (text.size() > 1) text += ',';
    text += nlohmann::json(key).dump();
    text += ':';
    text += value.dump();
  };
  if (!metadata.empty()) add("__metadata__", nlohmann::json(metadata));
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * element_size(t.dtype());
    add(name, {{"dtype", detail::safetensors_dtype(t.dtype())},
               {"shape", t.shape()},
               {"data_offsets", {offset, offset + bytes}}});
    offset += bytes;
  }
  text += '}';
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  const std::uint64_t length = text.size();

  detail::FileReplacement file(path);
  file.write(&length, sizeof length);
  file.write(text.data(), text.size());
  for (const auto& [name, t] : tensors) {
    const Tensor dense = t.detach().contiguous();  // a view's elements, in row-major order
    file.write(raw_data(dense), static_cast<std::size_t>(t.numel()) * element_size(t.dtype()));
  }
  file.commit();
}

namespace {

// Reads and checks the safetensors bytes of `in`; `path` names them in messages.
TensorMap read_safetensors(std::istream& in, const std::string& path, Metadata* metadata) {
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  XG_CHECK_STATE(in && end >= 0, io_error("load: cannot read", path));
  const auto file_size = static_cast<std::uint64_t>(end);
  in.seekg(0);
  if (file_size < 8) detail::bad_safetensors(path, "shorter than the 8-byte header length");
  std::uint64_t length = 0;
  in.read(reinterpret_cast<char*>(&length), sizeof length);
  if (length > file_size - 8) {
    detail::bad_safetensors(path, "the header claims " + std::to_string(length) +
                                      " bytes but the file has " + std::to_string(file_size - 8) +
                                      " after the length");
  }
  if (length > kMaxHeader) {
    detail::bad_safetensors(path, "the header is larger than " + std::to_string(kMaxHeader) +
                                      " bytes, the format's limit");
  }
  std::string text(length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(length));
  XG_CHECK_STATE(in, io_error("load: cannot read", path));
  detail::SafetensorsHeader header = detail::parse_safetensors_header(text, path);
  text = std::string();

  // The offsets must tile the data buffer: no gap, no overlap, nothing left over.
  using Item = std::map<std::string, detail::SafetensorsEntry>::value_type;
  const std::uint64_t data_size = file_size - 8 - length;
  std::vector<const Item*> order;
  order.reserve(header.tensors.size());
  for (const auto& item : header.tensors) order.push_back(&item);
  std::sort(order.begin(), order.end(), [](const Item* a, const Item* b) {
    return a->second.begin != b->second.begin ? a->second.begin < b->second.begin
                                              : a->second.end < b->second.end;
  });
  std::uint64_t expected = 0;
  for (const Item* item : order) {
    const detail::SafetensorsEntry& e = item->second;
    if (e.begin != expected) {
      detail::bad_safetensors(path, "tensor '" + item->first + "' starts at byte " +
                                        std::to_string(e.begin) + " where " +
                                        std::to_string(expected) +
                                        " was expected (a gap or an overlap in data_offsets)");
    }
    expected = e.end;
  }
  if (expected != data_size) {
    detail::bad_safetensors(path, "the tensors cover " + std::to_string(expected) +
                                      " bytes of data but the file has " +
                                      std::to_string(data_size));
  }

  TensorMap out;
  for (const auto& [name, e] : header.tensors) {
    Tensor t = empty(e.shape, e.dtype);
    in.seekg(static_cast<std::streamoff>(8 + length + e.begin));
    auto* bytes = static_cast<unsigned char*>(const_cast<void*>(raw_data(t)));
    in.read(reinterpret_cast<char*>(bytes), static_cast<std::streamsize>(e.end - e.begin));
    XG_CHECK_STATE(in, io_error("load: cannot read", path));
    if (e.dtype == kBool) {  // read as bytes: a bool of another value would be undefined
      for (std::uint64_t i = 0; i < e.end - e.begin; ++i) {
        if (bytes[i] > 1) {
          detail::bad_safetensors(path, "tensor '" + name + "': BOOL element " + std::to_string(i) +
                                            " is " + std::to_string(bytes[i]) + ", not 0 or 1");
        }
      }
    }
    out.emplace_hint(out.end(), name, std::move(t));
  }
  if (metadata) *metadata = std::move(header.metadata);
  return out;
}

}  // namespace

TensorMap load(const std::string& path, Metadata* metadata) {
  std::ifstream in(path, std::ios::binary);
  XG_CHECK_STATE(in, io_error("load: cannot open", path));
  return read_safetensors(in, path, metadata);
}

TensorMap load(std::istream& in, Metadata* metadata) {
  return read_safetensors(in, "<stream>", metadata);
}

namespace {
// Every name of the module's state in registration order, tied tensors under each of their
// names, as PyTorch's state_dict.
std::vector<nn::NamedTensor> ordered_state(const nn::Module& module) {
  std::vector<nn::NamedTensor> out = module.named_parameters(true, false);
  for (auto& b : module.named_buffers(true, false)) {
    if (b.tensor.defined()) out.push_back(std::move(b));
  }
  return out;
}
}  // namespace

TensorMap state_dict(const nn::Module& module) {
  TensorMap out;
  for (auto& item : ordered_state(module)) out[item.name] = std::move(item.tensor);
  return out;
}

namespace {

// Checks that `tensors` fit the module: every matched name's shape and dtype always, and with
// `strict` that no name is missing or extra. Returns the names it did not match.
IncompatibleKeys check_module_state(const nn::Module& module, const TensorMap& tensors,
                                    bool strict = true) {
  IncompatibleKeys keys;
  const std::vector<nn::NamedTensor> own = ordered_state(module);
  std::set<std::string> own_names;
  for (const auto& [name, t] : own) {
    own_names.insert(name);
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      XG_CHECK_ARG(!strict, "load_state_dict: '", name, "' of ", module.name(),
                   " is missing from the state");
      keys.missing_keys.push_back(name);
      continue;
    }
    XG_CHECK_ARG(it->second.shape() == t.shape(), "load_state_dict: '", name, "' has shape ",
                 shape_to_string(it->second.shape()), " in the state but ",
                 shape_to_string(t.shape()), " in ", module.name());
    // Float32 and Float64 load into each other; Int64 and Bool only into themselves.
    XG_CHECK_ARG(it->second.dtype() == t.dtype() ||
                     (it->second.is_floating_point() && t.is_floating_point()),
                 "load_state_dict: '", name, "' is ", dtype_name(it->second.dtype()),
                 " in the state but ", dtype_name(t.dtype()), " in ", module.name());
  }
  for (const auto& [name, t] : tensors) {
    if (own_names.count(name)) continue;
    XG_CHECK_ARG(!strict, "load_state_dict: the state has '", name, "', which ", module.name(),
                 " does not have");
    keys.unexpected_keys.push_back(name);
  }
  return keys;
}

// In registration order, as PyTorch's load_state_dict: a tensor tied under two names takes the
// value of the entry registered last. Names the state lacks are left as they are.
void copy_into(const nn::Module& module, const TensorMap& tensors) {
  NoGradGuard no_grad;
  for (auto& item : ordered_state(module)) {
    auto it = tensors.find(item.name);
    if (it != tensors.end()) item.tensor.copy_(it->second);
  }
}

// The entries under `prefix`, with the prefix removed.
TensorMap with_prefix_removed(const TensorMap& tensors, const std::string& prefix) {
  TensorMap out;
  for (const auto& [name, t] : tensors) {
    if (name.compare(0, prefix.size(), prefix) == 0) out[name.substr(prefix.size())] = t;
  }
  return out;
}

TensorMap with_prefix(const TensorMap& tensors, const std::string& prefix) {
  TensorMap out;
  for (const auto& [name, t] : tensors) out[prefix + name] = t;
  return out;
}

}  // namespace

IncompatibleKeys load_state_dict(nn::Module& module, const TensorMap& tensors, bool strict) {
  IncompatibleKeys keys = check_module_state(module, tensors, strict);
  copy_into(module, tensors);
  return keys;
}

void save(const nn::Module& module, const std::string& path, const Metadata& metadata) {
  save(state_dict(module), path, metadata);
}

IncompatibleKeys load(nn::Module& module, const std::string& path, Metadata* metadata,
                      bool strict) {
  Metadata meta;
  IncompatibleKeys keys = load_state_dict(module, load(path, &meta), strict);
  if (metadata) *metadata = std::move(meta);
  return keys;
}

void save(const optim::Optimizer& optimizer, const std::string& path) {
  const auto state = optimizer.state_dict();
  save(state.tensors, path, {{"optimizer", state.optimizer}});
}

void load(optim::Optimizer& optimizer, const std::string& path) {
  Metadata meta;
  optim::OptimizerStateDict state;
  state.tensors = load(path, &meta);
  state.optimizer = meta.count("optimizer") ? meta.at("optimizer") : "";
  optimizer.load_state_dict(state);
}

void save(const nn::Module& module, const optim::Optimizer& optimizer, const std::string& path,
          const Metadata& metadata) {
  const auto state = optimizer.state_dict();
  TensorMap all = with_prefix(state_dict(module), "model.");
  all.merge(with_prefix(state.tensors, "optimizer."));
  Metadata meta = metadata;
  meta["optimizer"] = state.optimizer;
  save(all, path, meta);
}

void load(nn::Module& module, optim::Optimizer& optimizer, const std::string& path,
          Metadata* metadata) {
  Metadata meta;
  const TensorMap all = load(path, &meta);
  for (const auto& [name, t] : all) {
    XG_CHECK_ARG(name.rfind("model.", 0) == 0 || name.rfind("optimizer.", 0) == 0,
                 "load: checkpoint entry '", name, "' is neither model. nor optimizer.");
  }
  const TensorMap model = with_prefix_removed(all, "model.");
  check_module_state(module, model);
  optim::OptimizerStateDict state;
  state.optimizer = meta.count("optimizer") ? meta.at("optimizer") : "";
  state.tensors = with_prefix_removed(all, "optimizer.");
  optimizer.load_state_dict(state);  // checks everything before changing anything
  copy_into(module, model);          // cannot fail: checked above
  if (metadata) *metadata = std::move(meta);
}

}  // namespace xg
