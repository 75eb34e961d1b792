# Run by `cmake --install` (install(SCRIPT) in CMakeLists.txt): writes the
# systemd units from their *.in templates with the paths of this install's
# prefix, and installs them. The QP_* variables come from the install(CODE)
# block just before this script.
foreach(_abs QP_BINDIR_REL QP_DOCDIR_REL QP_SYSTEMD_UNIT_DIR)
  if(IS_ABSOLUTE "${${_abs}}")
    set(_${_abs} "${${_abs}}")
  else()
    set(_${_abs} "${CMAKE_INSTALL_PREFIX}/${${_abs}}")
  endif()
endforeach()
set(QP_BINDIR "${_QP_BINDIR_REL}")
set(QP_DOCDIR "${_QP_DOCDIR_REL}")

file(MAKE_DIRECTORY "${QP_UNIT_STAGING_DIR}")
set(_units "")
foreach(_unit IN LISTS QP_UNITS)
  configure_file("${QP_UNIT_SOURCE_DIR}/${_unit}.in" "${QP_UNIT_STAGING_DIR}/${_unit}" @ONLY)
  list(APPEND _units "${QP_UNIT_STAGING_DIR}/${_unit}")
endforeach()
file(INSTALL DESTINATION "${_QP_SYSTEMD_UNIT_DIR}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES ${_units})
