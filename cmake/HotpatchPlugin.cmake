# hotpatch_use_plugin(<target> [ALL] [MODE both|thunk|callsite])
#
# Compiles every source of <target> with the hotpatch.so plugin built by this
# project, and links the runtime. ALL makes every function defined in the
# target's sources hot; otherwise only HOTPATCH-annotated functions are.
set(HOTPATCH_PLUGIN_PATH "${PROJECT_BINARY_DIR}/lib/hotpatch.so")

function(hotpatch_use_plugin target)
  cmake_parse_arguments(HP "ALL" "MODE" "" ${ARGN})
  set(opts "-fplugin=${HOTPATCH_PLUGIN_PATH}")
  if(HP_ALL)
    list(APPEND opts "-fplugin-arg-hotpatch-all")
  endif()
  if(HP_MODE)
    list(APPEND opts "-fplugin-arg-hotpatch-mode=${HP_MODE}")
  endif()
  target_compile_options(${target} PRIVATE ${opts})
  add_dependencies(${target} hotpatch_plugin)
  # Rebuild the target's objects when the plugin changes.
  get_target_property(srcs ${target} SOURCES)
  set_property(SOURCE ${srcs} TARGET_DIRECTORY ${target} APPEND PROPERTY
    OBJECT_DEPENDS "${HOTPATCH_PLUGIN_PATH}")
  target_link_libraries(${target} PRIVATE hotpatch::runtime)
endfunction()
