# link-graph.cmake - writes the link graph the build declares, for
# scripts/check-link-graph.sh (ctest build/link-graph): for each library
# target named, its archive and the archives and shared libraries it names
# itself (target_link_libraries, PUBLIC or PRIVATE), and which targets may
# name each library that only one part of tfaas is to use. The check then
# holds every target to what it names: a symbol an archive uses must come
# from itself, from what it names, or from the C runtime.
#
# tfaas_link_graph(OUT <file> TARGETS <t>... OWNERS "<lib>:<target>[,<target>]"...
#                  HOOKS "<target>:<target>"...)
# A library named in OWNERS (by its file name without .so or .a: libsqlite3,
# duktape) may be named only by the targets listed with it. HOOKS a:b: a calls
# back into b, which links it (Duktape's configured hooks into the enclave
# that embeds it), so a may use b's symbols without naming it.
function(tfaas_link_graph)
  cmake_parse_arguments(LG "" "OUT" "TARGETS;OWNERS;HOOKS" ${ARGN})
  set(lines "")
  foreach(hook ${LG_HOOKS})
    string(REPLACE ":" ";" hook "${hook}")
    list(GET hook 0 from)
    list(GET hook 1 to)
    string(APPEND lines "hooks ${from} $<TARGET_FILE:${to}>\n")
  endforeach()
  foreach(owner ${LG_OWNERS})
    string(REPLACE ":" " " owner "${owner}")
    string(REPLACE "," " " owner "${owner}")
    string(APPEND lines "owner ${owner}\n")
  endforeach()
  foreach(tgt ${LG_TARGETS})
    set(providers "")
    _tfaas_link_graph_providers(${tgt} providers)
    string(APPEND lines "target ${tgt} $<TARGET_FILE:${tgt}>${providers}\n")
  endforeach()
  file(GENERATE OUTPUT ${LG_OUT} CONTENT "${lines}")
endfunction()

# What TGT names itself, as files: our static libraries' archives, imported
# libraries' files, a plain name's lib<name>.so in TGT's link directories;
# an OBJECT library's objects are in TGT's archive, so what it names counts
# as named by TGT. Flags (-pthread) and libm (part of the C runtime) are not
# providers.
function(_tfaas_link_graph_providers tgt out)
  set(acc "${${out}}")
  get_target_property(libs ${tgt} LINK_LIBRARIES)
  get_target_property(dirs ${tgt} LINK_DIRECTORIES)
  if(NOT libs)
    set(libs "")
  endif()
  foreach(l ${libs})
    if(TARGET ${l})
      get_target_property(type ${l} TYPE)
      get_target_property(imported ${l} IMPORTED)
      if(imported)
        get_target_property(files ${l} INTERFACE_LINK_LIBRARIES)
        foreach(f ${files})
          if(f MATCHES "^/")
            string(APPEND acc " ${f}")
          endif()
        endforeach()
      elseif(type STREQUAL "OBJECT_LIBRARY")
        _tfaas_link_graph_providers(${l} acc)
      elseif(type STREQUAL "STATIC_LIBRARY")
        string(APPEND acc " $<TARGET_FILE:${l}>")
      endif()
    elseif(NOT l STREQUAL "m" AND NOT l MATCHES "^-")
      set(found "")
      foreach(d ${dirs})
        if(NOT found AND EXISTS ${d}/lib${l}.so)
          set(found ${d}/lib${l}.so)
        endif()
      endforeach()
      if(NOT found)
        find_library(found_${l} ${l})
        set(found ${found_${l}})
      endif()
      if(found)
        string(APPEND acc " ${found}")
      else()
        message(FATAL_ERROR "link-graph: ${tgt} names ${l}, which is neither a target nor a library found")
      endif()
    endif()
  endforeach()
  set(${out} "${acc}" PARENT_SCOPE)
endfunction()
