// libFuzzer target for the safetensors loader: whatever the bytes, xg::load returns or throws
// std::invalid_argument or std::runtime_error; any other exception, a crash, a sanitizer
// report, a hang or an allocation beyond -malloc_limit_mb is a finding. A file that loads is
// then loaded into a small model, which must either take it or stay byte for byte as it was.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

std::vector<float> bytes_of(const xg::nn::Module& model) {
  std::vector<float> out;
  for (const auto& p : model.named_parameters()) {
    const xg::Tensor& c = p.tensor;
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  xg::TensorMap tensors;
  try {
    xg::Metadata metadata;
    tensors = xg::load(in, &metadata);
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const std::runtime_error&) {
    return 0;
  }
  // The corpus's valid files hold a Linear(2, 2): weight [2, 2] and bias [2], F32.
  xg::nn::Linear model(2, 2);
  const std::vector<float> before = bytes_of(model);
  try {
    xg::load_state_dict(model, tensors);
  } catch (const std::invalid_argument&) {
    if (std::memcmp(bytes_of(model).data(), before.data(), before.size() * sizeof(float)) != 0) {
      std::abort();  // a refused state_dict changed the model
    }
  }
  return 0;
}
