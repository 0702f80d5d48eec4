#include "check.hpp"

#include <sstream>

namespace xg::detail {

std::string fixed6(double v) { return std::to_string(v); }

std::string general6(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string trimmed(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace xg::detail
