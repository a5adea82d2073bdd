# A Pd GUI plugin for tests/gui/test_patch_layout.py: opens one patch (and its subpatches), waits
# until Pd has drawn every window, writes what Tk drew (each canvas item's type, tags, coordinates,
# bounding box and shown text) as JSON lines, saves a screenshot of each window, and quits Pd.
# It does nothing unless NN_LAYOUT_OUT is set, so it is harmless on a user's path.
#
# Environment: NN_LAYOUT_PATCH (the .pd file), NN_LAYOUT_SUBPATCHES (names of its [pd NAME]
# subpatches, opened too), NN_LAYOUT_OUT (the JSON lines file, written last, via a rename),
# NN_LAYOUT_SHOTS (a file name prefix for the PNG screenshots, taken with ImageMagick's import).
#
# When is a window drawn? Pd draws a canvas only after the GUI tells it the window is mapped
# ("map 1", sent by ::pd_bindings::patch_map). Pd handles the GUI's messages in order, so a message
# sent right after "map 1" comes back after the drawing: an unknown selector sent to "pd" makes Pd
# post an error naming it (and the window), and that post is the signal. No timers are involved.
# Windows are opened one after the other, so each is on top when its screenshot is taken.

if {[info exists ::env(NN_LAYOUT_OUT)]} {
namespace eval ::nn_layout {
    # what to open, one window at a time (each screenshot is taken while its window is on top)
    variable todo $::env(NN_LAYOUT_SUBPATCHES)
    variable shots 0
    variable out ""
}

proc ::nn_layout::json_str {s} {
    return "\"[string map {\\ \\\\ \" \\\" \n \\n \r \\r \t \\t} $s]\""
}

proc ::nn_layout::json_nums {l} {
    return "\[[join $l ,]\]"
}

proc ::nn_layout::after_map {cmd code result op} {
    pdsend "pd nn-layout-probe-[lindex $cmd 1]"
}

# A probe came back: the window named in it is drawn. Record it, then open the next one.
proc ::nn_layout::on_post {cmd op} {
    variable todo
    set message [lindex $cmd 3]
    if {![regexp {nn-layout-probe-(\.x[0-9a-f]+)} $message -> w]} return
    after idle [list ::nn_layout::record $w]
}

proc ::nn_layout::record {w} {
    variable todo
    variable shots
    variable out
    update
    set c $w.c
    set shot "$::env(NN_LAYOUT_SHOTS)-$shots.png"
    incr shots
    if {[catch {exec import -window [winfo id $c] $shot} err]} {
        set shot "error: $err"
    }
    # the part of the canvas that the window shows
    set view [list [$c canvasx 0] [$c canvasy 0] \
                  [$c canvasx [winfo width $c]] [$c canvasy [winfo height $c]]]
    # which Pd and which GUI (the folder of the Tcl files that run) drew the window
    set pd "$::PD_MAJOR_VERSION.$::PD_MINOR_VERSION.$::PD_BUGFIX_VERSION"
    append out "{\"window\": [json_str $w], \"title\": [json_str [wm title $w]],\
              \"view\": [json_nums $view], \"screenshot\": [json_str $shot],\
              \"pd\": [json_str $pd], \"guidir\": [json_str $::sys_guidir]}\n"
    foreach id [$c find all] {
        set type [$c type $id]
        set text ""
        if {$type eq "text"} {set text [$c itemcget $id -text]}
        set bbox [$c bbox $id]
        if {$bbox eq ""} continue
        append out "{\"window\": [json_str $w], \"type\": [json_str $type],\
                  \"tags\": \[[join [lmap t [$c gettags $id] {json_str $t}] ,]\],\
                  \"coords\": [json_nums [$c coords $id]], \"bbox\": [json_nums $bbox],\
                  \"text\": [json_str $text]}\n"
    }
    if {[llength $todo]} {
        pdsend "pd-[lindex $todo 0] vis 1"
        set todo [lrange $todo 1 end]
        return
    }
    set tmp "$::env(NN_LAYOUT_OUT).part"
    set f [open $tmp w]
    fconfigure $f -encoding utf-8
    puts -nonewline $f $out
    close $f
    file rename -force $tmp $::env(NN_LAYOUT_OUT)
    pdsend "pd quit"
}

trace add execution ::pd_bindings::patch_map leave ::nn_layout::after_map
trace add execution ::pdwindow::logpost enter ::nn_layout::on_post
pdsend "pd open [enquote_path [file tail $::env(NN_LAYOUT_PATCH)]]\
    [enquote_path [file dirname $::env(NN_LAYOUT_PATCH)]]"
}
