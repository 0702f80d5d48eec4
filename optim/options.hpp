// Optimizer options declared once per field, as PyTorch's TORCH_ARG: an options class lists its
// fields in a table, one row per field, and each row gives the setter, the getter, the member and
// the field's state-dict entry. validate() stays written by hand. SGDOptions (sgd.hpp) reads:
//
//   class SGDOptions : public internal::MapOptions<SGDOptions> {
//   #define XG_SGD_OPTIONS(OPTION, PAIR) OPTION(double, lr, 0) OPTION(bool, nesterov, false) ...
//     XG_OPTIONS(SGDOptions, XG_SGD_OPTIONS)
//   #undef XG_SGD_OPTIONS
//    public:
//     static constexpr const char* kName = "SGD";  // starts every message
//     explicit SGDOptions(double lr) : lr_(lr) {}
//     void validate() const override;
//   };
//
// OPTION(T, name, default) makes `Self& name(const T&)`, `const T& name() const` and the member
// `name_`, saved under the key "name" (a bool as 0 or 1). PAIR(name, key1, default1, key2,
// default2) does the same for a std::tuple<double, double> saved as two numbers, key1 and key2
// (Adam's betas: beta1, beta2). After XG_OPTIONS the access is public.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>

#include "../tensor/check.hpp"
#include "optimizer.hpp"

namespace xg::optim::internal {

using DoublePair = std::tuple<double, double>;

// clone, get_lr/set_lr, to_map and from_map of an options class made with XG_OPTIONS (Derived
// needs an `lr` option and kName).
template <class Derived>
class MapOptions : public OptimizerOptions {
 public:
  std::unique_ptr<OptimizerOptions> clone() const override {
    return std::make_unique<Derived>(derived());
  }
  double get_lr() const override { return derived().lr(); }
  void set_lr(double lr) override { derived().lr(lr); }

  std::map<std::string, double> to_map() const override {
    std::map<std::string, double> out;
    Derived::for_each_option(derived(), [&](const char* key, const auto& value) {
      out[key] = static_cast<double>(value);  // a bool as 0 or 1
    });
    return out;
  }

  // Missing options are reported first, in declared order, then unknown ones, in the map's
  // order; the options are loaded into a copy and validated, so a throw changes nothing.
  void from_map(const std::map<std::string, double>& values) override {
    Derived::for_each_option(derived(), [&](const char* key, const auto&) {
      XG_CHECK_ARG(values.count(key), Derived::kName, ": the state has no option '", key, "'");
    });
    const auto known = to_map();
    for (const auto& [key, value] : values) {
      XG_CHECK_ARG(known.count(key), Derived::kName, ": the state has an unknown option '", key,
                   "'");
    }
    Derived loaded = derived();
    Derived::for_each_option(loaded, [&](const char* key, auto& value) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(value)>, bool>) {
        value = values.at(key) != 0;
      } else {
        value = values.at(key);
      }
    });
    loaded.validate();
    derived() = loaded;
  }

 private:
  const Derived& derived() const { return static_cast<const Derived&>(*this); }
  Derived& derived() { return static_cast<Derived&>(*this); }
};

}  // namespace xg::optim::internal

// One row of a field table in the class body: setter, getter, member.
#define XG_OPTION_MEMBERS(T, name, default_value) \
 public:                                          \
  Self& name(const T& v) {                        \
    name##_ = v;                                  \
    return *this;                                 \
  }                                               \
  const T& name() const { return name##_; }       \
                                                  \
 private:                                         \
  T name##_ = default_value;
#define XG_OPTION_PAIR_MEMBERS(name, key1, default1, key2, default2) \
  XG_OPTION_MEMBERS(::xg::optim::internal::DoublePair, name,         \
                    (::xg::optim::internal::DoublePair{default1, default2}))

// The same row in for_each_option: the field's key and value(s).
#define XG_OPTION_VISIT(T, name, default_value) visit(#name, o.name##_);
#define XG_OPTION_PAIR_VISIT(name, key1, default1, key2, default2) \
  visit(#key1, std::get<0>(o.name##_));                            \
  visit(#key2, std::get<1>(o.name##_));

// The members of the table FIELDS of class Class, and for_each_option(o, visit), which calls
// visit(key, value) on each option of o in declared order (values by reference).
#define XG_OPTIONS(Class, FIELDS)                    \
 private:                                            \
  using Self = Class;                                \
  FIELDS(XG_OPTION_MEMBERS, XG_OPTION_PAIR_MEMBERS)  \
                                                     \
 public:                                             \
  template <class O, class Visit>                    \
  static void for_each_option(O& o, Visit&& visit) { \
    FIELDS(XG_OPTION_VISIT, XG_OPTION_PAIR_VISIT)    \
  }
