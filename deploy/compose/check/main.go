// Command check loads a compose file the way `docker compose config` does, with the same library
// (github.com/compose-spec/compose-go/v2) and the same options, so that a machine without Docker can
// tell whether Docker Compose accepts the file. On success it prints the normalised model (YAML or
// JSON, as `docker compose config` prints it); on any problem it prints the library's error and exits 1.
//
//	go run . --project-directory ../../.. -f docker-compose.yml --format json
//
// The options mirror `docker compose [-f FILE] [--project-directory DIR] [-p NAME] [--env-file FILE]
// [--profile P] config [--format F]`; without --profile every profile is enabled ("*"), so services
// that only start with a profile are checked too.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	files      stringList
	envFiles   stringList
	profiles   stringList
	projectDir string
	name       string
	format     string
	quiet      bool
}

func main() {
	var o options
	flag.Var(&o.files, "f", "compose file (repeatable; default: COMPOSE_FILE or compose.yaml/docker-compose.yml)")
	flag.Var(&o.envFiles, "env-file", "environment file (repeatable; default: COMPOSE_ENV_FILES or the project's .env)")
	flag.Var(&o.profiles, "profile", `profile to enable (repeatable; default "*": every profile)`)
	flag.StringVar(&o.projectDir, "project-directory", "", "working directory (default: the first compose file's directory)")
	flag.StringVar(&o.name, "p", "", "project name (default: COMPOSE_PROJECT_NAME, the file's name: or the directory's)")
	flag.StringVar(&o.format, "format", "yaml", "output format: yaml or json")
	flag.BoolVar(&o.quiet, "q", false, "only validate, print nothing on success")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments: %s", strings.Join(flag.Args(), " ")))
	}
	if len(o.envFiles) == 0 {
		o.envFiles = strings.FieldsFunc(os.Getenv("COMPOSE_ENV_FILES"), func(c rune) bool { return c == ',' })
	}
	if len(o.profiles) == 0 {
		o.profiles = stringList{"*"}
	}

	content, err := config(context.Background(), o)
	if err != nil {
		fail(err)
	}
	if !o.quiet {
		_, _ = os.Stdout.Write(content)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// config is `docker compose config`: load with interpolation, path resolution, normalisation and the
// consistency checks, resolve the services' environment, check container names, then marshal.
func config(ctx context.Context, o options) ([]byte, error) {
	project, err := load(ctx, o)
	if err != nil {
		return nil, err
	}
	project, err = project.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, err
	}
	if err := project.CheckContainerNameUnicity(); err != nil {
		return nil, err
	}
	var content []byte
	switch o.format {
	case "json":
		content, err = project.MarshalJSON()
	case "yaml":
		content, err = project.MarshalYAML()
	default:
		return nil, fmt.Errorf("unsupported format %q", o.format)
	}
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(content, []byte("$"), []byte("$$")), nil
}

// load builds the project options in Docker Compose's order (the config command's own options
// first, then the CLI's) and applies the post-processing of its LoadProject.
func load(ctx context.Context, o options) (*types.Project, error) {
	fns := []cli.ProjectOptionsFn{
		// the config command's options
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithDefaultProfiles(o.profiles...),
		cli.WithDiscardEnvFile,
		// the CLI's
		cli.WithWorkingDirectory(o.projectDir),
		cli.WithOsEnv,
	}
	if _, present := os.LookupEnv("PWD"); !present {
		if pwd, err := os.Getwd(); err == nil {
			fns = append(fns, cli.WithEnv([]string{"PWD=" + pwd}))
		}
	}
	fns = append(fns,
		cli.WithEnvFiles(o.envFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(o.envFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(o.profiles...),
		cli.WithName(o.name),
	)
	projectOptions, err := cli.NewProjectOptions(o.files, fns...)
	if err != nil {
		return nil, err
	}
	project, err := projectOptions.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	if project.Name == "" {
		return nil, errors.New("project name can't be empty. Use ProjectName option to set a valid name")
	}
	project, err = project.WithServicesEnabled()
	if err != nil {
		return nil, err
	}
	project, err = project.WithSelectedServices(nil)
	if err != nil {
		return nil, err
	}
	return project.WithoutUnnecessaryResources(), nil
}
