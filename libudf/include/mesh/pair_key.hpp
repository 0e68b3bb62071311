// A hash-map key made of two strings, found without building a string: lookups pass a pair of
// string_views (heterogeneous lookup), so a request's (group key, member key) costs no allocation.
//   std::unordered_map<mesh::PairKey, V, mesh::PairKeyHash, mesh::PairKeyEqual> m;
//   m.find(mesh::PairKeyView{group_kid, member_kid});
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace mesh {

using PairKey = std::pair<std::string, std::string>;
using PairKeyView = std::pair<std::string_view, std::string_view>;

struct PairKeyHash {
    using is_transparent = void;
    std::size_t operator()(PairKeyView k) const noexcept {
        const std::size_t a = std::hash<std::string_view>{}(k.first);
        const std::size_t b = std::hash<std::string_view>{}(k.second);
        return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    }
    std::size_t operator()(const PairKey& k) const noexcept { return (*this)(PairKeyView(k.first, k.second)); }
};

struct PairKeyEqual {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
        return std::string_view(a.first) == std::string_view(b.first) && std::string_view(a.second) == std::string_view(b.second);
    }
};

}  // namespace mesh
