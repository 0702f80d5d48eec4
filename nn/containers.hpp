// Module containers, as torch::nn's: ModuleList (modules by position) and ModuleDict (modules by
// key, in insertion order). Their children are registered, so parameters(), train(), to() and
// save see them; neither has a forward.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "module.hpp"

namespace xg::nn {

// Modules by position, registered as "0", "1", ..., as nn.ModuleList.
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);
  // Appends a module under the next index (LibTorch's push_back, PyTorch's append).
  void push_back(std::shared_ptr<Module> module);
  ModuleList& append(std::shared_ptr<Module> module);
  ModuleList& extend(const std::vector<std::shared_ptr<Module>>& modules);
  std::size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  // Negative indices count from the end, as in Python; out of range throws std::out_of_range.
  const std::shared_ptr<Module>& operator[](std::int64_t index) const;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

// Modules by key, in insertion order, as nn.ModuleDict. A key is a submodule name (non-empty, no
// '.').
class ModuleDict : public Module {
 public:
  using Item = std::pair<std::string, std::shared_ptr<Module>>;
  ModuleDict() : Module("ModuleDict") {}
  ModuleDict(std::initializer_list<Item> items);
  // Adds a module under key; a key already present keeps its position and gets the new module,
  // as PyTorch's d[key] = module.
  void insert(const std::string& key, std::shared_ptr<Module> module);
  std::size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }
  bool contains(const std::string& key) const;
  // A missing key throws std::out_of_range (PyTorch's KeyError).
  const std::shared_ptr<Module>& operator[](const std::string& key) const;
  std::vector<std::string> keys() const;
  std::vector<std::shared_ptr<Module>> values() const;
  const std::vector<Item>& items() const { return items_; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
};

}  // namespace xg::nn
