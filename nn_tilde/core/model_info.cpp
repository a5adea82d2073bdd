// The model facts of model_info.h: lookups and the report lines.
#include "model_info.h"

namespace nn {

const MethodInfo* ModelInfo::method(const std::string& name) const {
    for (const auto& m : methods)
        if (m.name == name) return &m;
    return nullptr;
}

const AttributeInfo* ModelInfo::attribute(const std::string& name) const {
    for (const auto& a : attributes)
        if (a.name == name) return &a;
    return nullptr;
}

std::string ModelInfo::method_names() const {
    std::string s;
    for (const auto& m : methods) s += (s.empty() ? "" : ", ") + m.name;
    return s.empty() ? "(none)" : s;
}

std::string ModelInfo::attribute_names() const {
    std::string s;
    for (const auto& a : attributes) s += (s.empty() ? "" : ", ") + a.name;
    return s.empty() ? "(none)" : s;
}

int ModelInfo::buffer_multiple() const {
    std::vector<MethodShape> shapes;
    for (const auto& m : methods) shapes.push_back(m.shape);
    return nn::buffer_multiple(shapes);
}

std::string ModelInfo::default_method() const {
    if (method("forward")) return "forward";
    return methods.empty() ? std::string() : methods.front().name;
}

std::vector<Atom> symbols(const std::vector<std::string>& names) {
    std::vector<Atom> a;
    a.reserve(names.size());
    for (const auto& s : names) a.push_back(Atom::sym(s));
    return a;
}

InfoLine methods_line(const ModelInfo& info) {
    std::vector<std::string> names;
    for (const auto& m : info.methods) names.push_back(m.name);
    return {"methods", symbols(names)};
}

InfoLine method_line(const MethodInfo& m) {
    return {"method",
            {Atom::sym(m.name), Atom::num(m.shape.in_channels), Atom::num(m.shape.in_ratio),
             Atom::num(m.shape.out_channels), Atom::num(m.shape.out_ratio)}};
}

InfoLine attribute_line(const AttributeInfo& a) {
    std::vector<Atom> v{Atom::sym(a.name)};
    for (int t : a.types) v.push_back(Atom::sym(attribute_type_name(t)));
    return {"attribute", v};
}

}  // namespace nn
