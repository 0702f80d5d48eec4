#include "containers.hpp"

#include "../tensor/check.hpp"

namespace xg::nn {

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules)
    : Module("ModuleList") {
  for (const auto& m : modules) push_back(m);
}

void ModuleList::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

ModuleList& ModuleList::append(std::shared_ptr<Module> module) {
  push_back(std::move(module));
  return *this;
}

ModuleList& ModuleList::extend(const std::vector<std::shared_ptr<Module>>& modules) {
  for (const auto& m : modules) push_back(m);
  return *this;
}

const std::shared_ptr<Module>& ModuleList::operator[](std::int64_t index) const {
  const auto n = static_cast<std::int64_t>(modules_.size());
  XG_CHECK_RANGE(index >= -n && index < n, "ModuleList: index ", index,
                 " is out of range for a list of ", n, " modules");
  return modules_[static_cast<std::size_t>(index < 0 ? index + n : index)];
}

ModuleDict::ModuleDict(std::initializer_list<Item> items) : Module("ModuleDict") {
  for (const auto& [key, module] : items) insert(key, module);
}

void ModuleDict::insert(const std::string& key, std::shared_ptr<Module> module) {
  for (auto& item : items_) {
    if (item.first == key) {
      replace_child(key, module);
      item.second = std::move(module);
      return;
    }
  }
  register_module(key, module);
  items_.emplace_back(key, std::move(module));
}

bool ModuleDict::contains(const std::string& key) const {
  for (const auto& item : items_) {
    if (item.first == key) return true;
  }
  return false;
}

const std::shared_ptr<Module>& ModuleDict::operator[](const std::string& key) const {
  for (const auto& item : items_) {
    if (item.first == key) return item.second;
  }
  detail::fail<std::out_of_range>("ModuleDict: no module under the key '", key, "'");
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& item : items_) out.push_back(item.first);
  return out;
}

std::vector<std::shared_ptr<Module>> ModuleDict::values() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& item : items_) out.push_back(item.second);
  return out;
}

}  // namespace xg::nn
