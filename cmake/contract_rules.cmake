# Writes nn~'s C++ copy of the model-file rules from python_tools/nn_tilde/rules.json, the one file that
# defines them: OUT_DIR/contract_limits.inc (rows of nn::kLimits), OUT_DIR/contract_types.inc (rows of
# nn::kAttributeTypeNames) and OUT_DIR/contract_rules.inc (rows of nn::kRules), included by
# nn_tilde/core/contract.h and contract.cpp.
#   cmake -DRULES_JSON=<rules.json> -DOUT_DIR=<dir> -P cmake/contract_rules.cmake
# Plain CMake (string(JSON), 3.19+), so builds without Python (the sanitizer builds) generate it too.
# Run by the build whenever rules.json or this script changes; a file whose text did not change is not
# touched, so nothing recompiles for nothing.
cmake_minimum_required(VERSION 3.25)

if(NOT RULES_JSON OR NOT OUT_DIR)
  message(FATAL_ERROR "usage: cmake -DRULES_JSON=<rules.json> -DOUT_DIR=<dir> -P contract_rules.cmake")
endif()
file(READ "${RULES_JSON}" json)
set(header "// Generated from python_tools/nn_tilde/rules.json by cmake/contract_rules.cmake: edit rules.json, not this file.\n")

# A C++ string literal of `text` (rules.json's strings are UTF-8; the literal keeps the bytes).
function(nn_cxx_literal text out)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n" text "${text}")
  string(REPLACE "\t" "\\t" text "${text}")
  set(${out} "\"${text}\"" PARENT_SCOPE)
endfunction()

# Limits: {"name": {"value": N, "meaning": "..."}} -> {"name", N},
string(JSON count ERROR_VARIABLE err LENGTH "${json}" limits)
if(err)
  message(FATAL_ERROR "${RULES_JSON}: no \"limits\" object: ${err}")
endif()
set(limits "${header}")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON name MEMBER "${json}" limits ${i})
  string(JSON value ERROR_VARIABLE err GET "${json}" limits ${name} value)
  if(err OR NOT value MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${RULES_JSON}: limits.${name}.value must be a whole number, not '${value}' ${err}")
  endif()
  nn_cxx_literal("${name}" name_literal)
  string(APPEND limits "{${name_literal}, ${value}},\n")
endforeach()

# Attribute types: ["bool", "int", ...] -> "bool", (the type code is the index).
string(JSON count ERROR_VARIABLE err LENGTH "${json}" attribute_types)
if(err)
  message(FATAL_ERROR "${RULES_JSON}: no \"attribute_types\" list: ${err}")
endif()
set(types "${header}")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${json}" attribute_types ${i})
  nn_cxx_literal("${name}" name_literal)
  string(APPEND types "${name_literal},\n")
endforeach()

# Rules: [{"id", "verdict", "message"}] -> {"id", Verdict::X, "message"}, in the file's order.
string(JSON count ERROR_VARIABLE err LENGTH "${json}" rules)
if(err)
  message(FATAL_ERROR "${RULES_JSON}: no \"rules\" list: ${err}")
endif()
set(rules "${header}")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  foreach(key id verdict message)
    string(JSON ${key} ERROR_VARIABLE err GET "${json}" rules ${i} ${key})
    if(err)
      message(FATAL_ERROR "${RULES_JSON}: rule ${i} has no \"${key}\": ${err}")
    endif()
  endforeach()
  if(verdict STREQUAL "refuse")
    set(verdict "Verdict::Refuse")
  elseif(verdict STREQUAL "warn")
    set(verdict "Verdict::Warn")
  elseif(verdict STREQUAL "hint")
    set(verdict "Verdict::Hint")
  else()
    message(FATAL_ERROR "${RULES_JSON}: rule '${id}' has verdict '${verdict}', not refuse, warn or hint")
  endif()
  nn_cxx_literal("${id}" id)
  nn_cxx_literal("${message}" message)
  string(APPEND rules "{${id}, ${verdict}, ${message}},\n")
endforeach()

foreach(part limits types rules)
  file(WRITE "${OUT_DIR}/contract_${part}.inc.new" "${${part}}")
  file(COPY_FILE "${OUT_DIR}/contract_${part}.inc.new" "${OUT_DIR}/contract_${part}.inc" ONLY_IF_DIFFERENT)
  file(REMOVE "${OUT_DIR}/contract_${part}.inc.new")
endforeach()
