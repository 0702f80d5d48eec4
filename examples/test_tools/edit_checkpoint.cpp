// Damages a checkpoint for the examples' tests of --resume: copies IN to OUT, changing its
// metadata or its tensors as the flags say.
#include <CLI/CLI.hpp>
#include <iostream>
#include <xgrad/xgrad.hpp>

int main(int argc, char** argv) {
  CLI::App app{"Copy a checkpoint, changing its metadata or its tensors."};
  std::string in, out, dtype;
  std::vector<std::string> set, erase, fill;
  app.add_option("in", in, "the checkpoint to read")->required()->check(CLI::ExistingFile);
  app.add_option("out", out, "where to write the changed copy")->required();
  app.add_option("--set", set, "KEY=VALUE: set a metadata entry");
  app.add_option("--erase", erase, "KEY: remove a metadata entry");
  app.add_option("--dtype", dtype, "convert every floating-point tensor")
      ->check(CLI::IsMember({"float32", "float64"}));
  app.add_option("--fill", fill, "NAME=NUMBER: fill a tensor with a number");
  CLI11_PARSE(app, argc, argv);

  try {
    xg::Metadata metadata;
    xg::TensorMap tensors = xg::load(in, &metadata);
    for (const std::string& entry : set) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("--set " + entry + ": no '='");
      metadata[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const std::string& key : erase) metadata.erase(key);
    if (!dtype.empty()) {
      const xg::Dtype to = dtype == "float64" ? xg::kFloat64 : xg::kFloat32;
      for (auto& [name, t] : tensors) {
        if (t.is_floating_point()) t = t.to(to);
      }
    }
    for (const std::string& entry : fill) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("--fill " + entry + ": no '='");
      tensors.at(entry.substr(0, eq)).fill_(std::stod(entry.substr(eq + 1)));
    }
    xg::save(tensors, out, metadata);
  } catch (const std::exception& e) {
    std::cerr << "edit_checkpoint: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
