/* A small LV2 host on lilv (Debian's liblilv-dev) for tests/plugin: loads the nn~ LV2 bundle, gives
 * it the features a JUCE plugin requires (urid map, options with the block length and sample rate,
 * bounded block length), renders a float WAV (mono or stereo) into another and prints the latency
 * output port. Debian's lv2apply, lv2file and lv2proc cannot host a JUCE plugin (no options feature).
 *
 *   nn_lv2_host <bundle dir> <plugin uri> <in.wav> <out.wav> [<control symbol>=<value>]...
 *   nn_lv2_host <bundle dir> <plugin uri>      lists the parameters (patch:writable) with their labels,
 *                                              which lv2info does not show
 */
#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/urid/urid.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 512, MAX_URIS = 256, ATOM_CAPACITY = 65536 };

static char* uris[MAX_URIS];
static int n_uris;

static LV2_URID map_uri(LV2_URID_Map_Handle handle, const char* uri) {
    (void)handle;
    for (int i = 0; i < n_uris; ++i)
        if (strcmp(uris[i], uri) == 0) return (LV2_URID)(i + 1);
    if (n_uris == MAX_URIS) return 0;
    uris[n_uris] = strdup(uri);
    return (LV2_URID)(++n_uris);
}

static const char* unmap_uri(LV2_URID_Unmap_Handle handle, LV2_URID urid) {
    (void)handle;
    return urid >= 1 && (int)urid <= n_uris ? uris[urid - 1] : NULL;
}

/* A float WAV (format 3, 32-bit): interleaved samples and their count. */
static float* read_wav(const char* path, int* channels, int* frames, int* rate) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    char id[4];
    uint32_t size;
    float* data = NULL;
    if (fread(id, 1, 4, f) != 4 || fread(&size, 4, 1, f) != 1 || fread(id, 1, 4, f) != 4) goto done;
    while (fread(id, 1, 4, f) == 4 && fread(&size, 4, 1, f) == 1) {
        if (memcmp(id, "fmt ", 4) == 0) {
            uint16_t fmt[8];
            if (fread(fmt, 1, 16, f) != 16) goto done;
            if (fmt[0] != 3 || fmt[7] != 32) {
                fprintf(stderr, "error: %s is not a 32-bit float WAV\n", path);
                goto done;
            }
            *channels = fmt[1];
            *rate = (int)(fmt[2] | ((uint32_t)fmt[3] << 16));
            fseek(f, (long)size - 16, SEEK_CUR);
        } else if (memcmp(id, "data", 4) == 0) {
            data = malloc(size);
            if (fread(data, 1, size, f) != size) {
                free(data);
                data = NULL;
                goto done;
            }
            *frames = (int)(size / 4 / (uint32_t)*channels);
            break;
        } else {
            fseek(f, (long)size, SEEK_CUR);
        }
    }
done:
    fclose(f);
    return data;
}

static int write_wav(const char* path, const float* data, int channels, int frames, int rate) {
    FILE* f = fopen(path, "wb");
    if (!f) return 0;
    const uint32_t bytes = (uint32_t)(frames * channels * 4), riff = 36 + bytes, fmt_size = 16;
    const uint16_t format = 3, ch = (uint16_t)channels, bits = 32, align = (uint16_t)(4 * channels);
    const uint32_t sr = (uint32_t)rate, byte_rate = sr * align;
    fwrite("RIFF", 1, 4, f);
    fwrite(&riff, 4, 1, f);
    fwrite("WAVEfmt ", 1, 8, f);
    fwrite(&fmt_size, 4, 1, f);
    fwrite(&format, 2, 1, f);
    fwrite(&ch, 2, 1, f);
    fwrite(&sr, 4, 1, f);
    fwrite(&byte_rate, 4, 1, f);
    fwrite(&align, 2, 1, f);
    fwrite(&bits, 2, 1, f);
    fwrite("data", 1, 4, f);
    fwrite(&bytes, 4, 1, f);
    fwrite(data, 4, (size_t)(frames * channels), f);
    return fclose(f) == 0;
}

static int list_parameters(const char* dir, const char* uri) {
    LilvWorld* world = lilv_world_new();
    char bundle[4096];
    snprintf(bundle, sizeof bundle, "file://%s/", dir);
    LilvNode* bundle_uri = lilv_new_uri(world, bundle);
    lilv_world_load_bundle(world, bundle_uri);
    LilvNode* plugin_uri = lilv_new_uri(world, uri);
    LilvNode* writable = lilv_new_uri(world, LV2_PATCH__writable);
    LilvNode* label = lilv_new_uri(world, LILV_NS_RDFS "label");
    const LilvPlugin* plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), plugin_uri);
    if (!plugin) {
        fprintf(stderr, "error: no plugin %s in %s\n", uri, dir);
        return 1;
    }
    LilvNodes* params = lilv_plugin_get_value(plugin, writable); /* loads the plugin's data files */
    if (!params) {
        fprintf(stderr, "error: %s lists no parameters (patch:writable)\n", uri);
        return 1;
    }
    int n = 0;
    LILV_FOREACH(nodes, i, params) {
        const LilvNode* param = lilv_nodes_get(params, i);
        LilvNode* name = lilv_world_get(world, param, label, NULL);
        printf("parameter %s %s\n", lilv_node_as_uri(param), name ? lilv_node_as_string(name) : "");
        lilv_node_free(name);
        ++n;
    }
    lilv_nodes_free(params);
    lilv_world_free(world);
    return n > 0 ? 0 : 1;
}

int main(int argc, char** argv) {
    if (argc == 3) return list_parameters(argv[1], argv[2]);
    if (argc < 5) {
        fprintf(stderr, "usage: %s <bundle dir> <plugin uri> <in.wav> <out.wav> [symbol=value]...\n", argv[0]);
        return 2;
    }
    int channels = 0, frames = 0, rate = 0;
    float* input = read_wav(argv[3], &channels, &frames, &rate);
    if (!input) {
        fprintf(stderr, "error: cannot read %s\n", argv[3]);
        return 1;
    }

    LilvWorld* world = lilv_world_new();
    char bundle[4096];
    snprintf(bundle, sizeof bundle, "file://%s/", argv[1]);
    LilvNode* bundle_uri = lilv_new_uri(world, bundle);
    lilv_world_load_bundle(world, bundle_uri);
    LilvNode* plugin_uri = lilv_new_uri(world, argv[2]);
    const LilvPlugin* plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), plugin_uri);
    if (!plugin) {
        fprintf(stderr, "error: no plugin %s in %s\n", argv[2], argv[1]);
        return 1;
    }

    LV2_URID_Map map = {NULL, map_uri};
    LV2_URID_Unmap unmap = {NULL, unmap_uri};
    const int32_t block = BLOCK, min_block = 1;
    const float sample_rate = (float)rate;
    const LV2_URID atom_int = map_uri(NULL, LV2_ATOM__Int), atom_float = map_uri(NULL, LV2_ATOM__Float);
    LV2_Options_Option options[] = {
        {LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__maxBlockLength), sizeof(int32_t), atom_int, &block},
        {LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__minBlockLength), sizeof(int32_t), atom_int, &min_block},
        {LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__nominalBlockLength), sizeof(int32_t), atom_int, &block},
        {LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_PARAMETERS__sampleRate), sizeof(float), atom_float, &sample_rate},
        {LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL}};
    LV2_Feature map_feature = {LV2_URID__map, &map}, unmap_feature = {LV2_URID__unmap, &unmap};
    LV2_Feature options_feature = {LV2_OPTIONS__options, options};
    LV2_Feature bounded = {LV2_BUF_SIZE__boundedBlockLength, NULL};
    const LV2_Feature* features[] = {&map_feature, &unmap_feature, &options_feature, &bounded, NULL};

    LilvInstance* instance = lilv_plugin_instantiate(plugin, rate, features);
    if (!instance) {
        fprintf(stderr, "error: cannot instantiate %s\n", argv[2]);
        return 1;
    }

    LilvNode* audio_class = lilv_new_uri(world, LV2_CORE__AudioPort);
    LilvNode* control_class = lilv_new_uri(world, LV2_CORE__ControlPort);
    LilvNode* atom_class = lilv_new_uri(world, LV2_ATOM__AtomPort);
    LilvNode* input_class = lilv_new_uri(world, LV2_CORE__InputPort);
    LilvNode* latency_designation = lilv_new_uri(world, LV2_CORE__latency);
    const uint32_t n_ports = lilv_plugin_get_num_ports(plugin);
    float* controls = calloc(n_ports, sizeof(float));
    float* audio[64];
    int n_audio_in = 0, n_audio_out = 0;
    float* in_bufs[8];
    float* out_bufs[8];
    int latency_port = -1;
    LV2_Atom_Sequence* atoms[64];
    int n_atoms = 0;
    const LV2_URID sequence = map_uri(NULL, LV2_ATOM__Sequence), chunk = map_uri(NULL, LV2_ATOM__Chunk);
    for (uint32_t i = 0; i < n_ports; ++i) {
        const LilvPort* port = lilv_plugin_get_port_by_index(plugin, i);
        const int is_input = lilv_port_is_a(plugin, port, input_class);
        if (lilv_port_is_a(plugin, port, audio_class)) {
            float* buf = calloc(BLOCK, sizeof(float));
            audio[n_audio_in + n_audio_out] = buf;
            if (is_input) in_bufs[n_audio_in++] = buf;
            else out_bufs[n_audio_out++] = buf;
            lilv_instance_connect_port(instance, i, buf);
        } else if (lilv_port_is_a(plugin, port, control_class)) {
            LilvNode* def = NULL;
            lilv_port_get_range(plugin, port, &def, NULL, NULL);
            controls[i] = def ? lilv_node_as_float(def) : 0.0f;
            lilv_node_free(def);
            const char* symbol = lilv_node_as_string(lilv_port_get_symbol(plugin, port));
            for (int a = 5; a < argc; ++a) {
                const char* eq = strchr(argv[a], '=');
                if (eq && strncmp(argv[a], symbol, (size_t)(eq - argv[a])) == 0 && strlen(symbol) == (size_t)(eq - argv[a]))
                    controls[i] = (float)atof(eq + 1);
            }
            LilvNode* latency = lilv_new_uri(world, LV2_CORE__reportsLatency);
            if (!is_input && (lilv_port_has_property(plugin, port, latency) ||
                              lilv_port_has_property(plugin, port, latency_designation) ||
                              strcmp(symbol, "latency") == 0))
                latency_port = (int)i;
            lilv_node_free(latency);
            lilv_instance_connect_port(instance, i, &controls[i]);
        } else if (lilv_port_is_a(plugin, port, atom_class)) {
            LV2_Atom_Sequence* seq = calloc(1, ATOM_CAPACITY);
            atoms[n_atoms++] = seq;
            lilv_instance_connect_port(instance, i, seq);
        } else {
            lilv_instance_connect_port(instance, i, NULL);
        }
    }
    (void)audio;
    if (n_audio_in < channels || n_audio_out < channels) {
        fprintf(stderr, "error: the plugin has %d audio inputs and %d outputs, the file %d channels\n", n_audio_in,
                n_audio_out, channels);
        return 1;
    }

    lilv_instance_activate(instance);
    float* output = calloc((size_t)frames * (size_t)channels, sizeof(float));
    for (int start = 0; start < frames; start += BLOCK) {
        const int n = frames - start < BLOCK ? frames - start : BLOCK;
        for (int c = 0; c < n_audio_in; ++c)
            for (int k = 0; k < n; ++k) in_bufs[c][k] = input[(size_t)(start + k) * channels + (c % channels)];
        for (int a = 0; a < n_atoms; ++a) {
            /* inputs: an empty sequence; outputs: room to write (the plugin reads the size as capacity) */
            atoms[a]->atom.type = sequence;
            atoms[a]->atom.size = sizeof(LV2_Atom_Sequence_Body);
            atoms[a]->body.unit = 0;
            atoms[a]->body.pad = 0;
        }
        for (uint32_t i = 0, a = 0; i < n_ports; ++i) {
            const LilvPort* port = lilv_plugin_get_port_by_index(plugin, i);
            if (lilv_port_is_a(plugin, port, atom_class) && !lilv_port_is_a(plugin, port, input_class)) {
                atoms[a]->atom.type = chunk;
                atoms[a]->atom.size = ATOM_CAPACITY - sizeof(LV2_Atom);
            }
            if (lilv_port_is_a(plugin, port, atom_class)) ++a;
        }
        lilv_instance_run(instance, (uint32_t)n);
        for (int c = 0; c < channels; ++c)
            for (int k = 0; k < n; ++k) output[(size_t)(start + k) * channels + c] = out_bufs[c][k];
    }
    printf("latency %d\n", latency_port >= 0 ? (int)controls[latency_port] : -1);
    lilv_instance_deactivate(instance);
    lilv_instance_free(instance);
    if (!write_wav(argv[4], output, channels, frames, rate)) {
        fprintf(stderr, "error: cannot write %s\n", argv[4]);
        return 1;
    }
    lilv_world_free(world);
    return 0;
}
