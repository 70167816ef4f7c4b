package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/iam"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/policy"
)

// adminUser runs `firn admin user add|list|remove|policy`.
func adminUser(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return ExitUsage
	}
	sub, args := args[0], args[1:]
	fs, data := adminFlags("firn admin user "+sub, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	file := fs.String("file", "", "policy: attach the identity policy in this JSON file")
	remove := fs.Bool("remove", false, "policy: detach the identity policy")
	name, rest := splitName(args)
	svc, closer, name, code := openIAMCommand(fs, data, name, rest, sub != "list", "firn admin user "+sub+": give a user name", stderr)
	if closer == nil {
		return code
	}
	defer closer.Close()
	switch sub {
	case "add":
		u, err := svc.AddUser(ctx, name)
		if err != nil {
			return iamFailure(stderr, err)
		}
		if *asJSON {
			return printJSON(stdout, stderr, map[string]any{"name": u.Name, "created": u.Created})
		}
		fmt.Fprintf(stdout, "user %s added; give it a policy with `firn admin user policy %s --file F` and a key with `firn admin key create %s`\n", u.Name, u.Name, u.Name)
	case "list":
		us, err := svc.ListUsers(ctx)
		if err != nil {
			return iamFailure(stderr, err)
		}
		if *asJSON {
			out := []map[string]any{}
			for _, u := range us {
				out = append(out, map[string]any{"name": u.Name, "created": u.Created, "has_policy": len(u.Policy) > 0})
			}
			return printJSON(stdout, stderr, out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tCREATED\tPOLICY")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%v\n", u.Name, u.Created.Format(time.RFC3339), len(u.Policy) > 0)
		}
		tw.Flush()
	case "remove":
		if err := svc.RemoveUser(ctx, name); err != nil {
			return iamFailure(stderr, err)
		}
		fmt.Fprintf(stdout, "user %s removed, its keys revoked\n", name)
	case "policy":
		switch {
		case *remove:
			if err := svc.PutUserPolicy(ctx, name, nil); err != nil {
				return iamFailure(stderr, err)
			}
			fmt.Fprintf(stdout, "policy of %s detached\n", name)
		case *file != "":
			doc, err := os.ReadFile(*file)
			if err != nil {
				fmt.Fprintln(stderr, "firn admin user policy:", err)
				return ExitFailure
			}
			if err := svc.PutUserPolicy(ctx, name, doc); err != nil {
				return iamFailure(stderr, err)
			}
			fmt.Fprintf(stdout, "policy attached to %s\n", name)
		default:
			doc, err := svc.UserPolicyDocument(ctx, name)
			if err != nil {
				return iamFailure(stderr, err)
			}
			if doc == nil {
				fmt.Fprintf(stderr, "user %s has no policy\n", name)
				return ExitFailure
			}
			stdout.Write(append(doc, '\n'))
		}
	default:
		fmt.Fprintf(stderr, "firn admin user: unknown command %q\n\n%s", sub, adminUsage)
		return ExitUsage
	}
	return ExitOK
}

// adminKeyAccess runs `firn admin key create|list|revoke`.
func adminKeyAccess(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) int {
	fs, data := adminFlags("firn admin key "+sub, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	user := fs.String("user", "", "list: only this user's keys")
	name, rest := splitName(args)
	what := map[string]string{"create": "user name", "revoke": "key id"}[sub]
	svc, closer, name, code := openIAMCommand(fs, data, name, rest, sub != "list", "firn admin key "+sub+": give a "+what, stderr)
	if closer == nil {
		return code
	}
	defer closer.Close()
	switch sub {
	case "create":
		k, err := svc.CreateKey(ctx, name)
		if err != nil {
			return iamFailure(stderr, err)
		}
		if *asJSON {
			return printJSON(stdout, stderr, map[string]any{"access_key_id": k.ID, "secret_access_key": k.Secret, "user": k.User})
		}
		fmt.Fprintf(stdout, "access key id:     %s\nsecret access key: %s\n(the secret is shown only now)\n", k.ID, k.Secret)
	case "list":
		ks, err := svc.ListKeys(ctx, *user)
		if err != nil {
			return iamFailure(stderr, err)
		}
		if *asJSON {
			out := []map[string]any{}
			for _, k := range ks {
				out = append(out, map[string]any{"access_key_id": k.ID, "user": k.User, "created": k.Created})
			}
			return printJSON(stdout, stderr, out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY ID\tUSER\tCREATED")
		for _, k := range ks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.User, k.Created.Format(time.RFC3339))
		}
		tw.Flush()
	case "revoke":
		if err := svc.RevokeKey(ctx, name); err != nil {
			return iamFailure(stderr, err)
		}
		fmt.Fprintf(stdout, "access key %s revoked\n", name)
	}
	return ExitOK
}

// openIAMCommand parses a user or key command's flags (rest), takes its
// name (before or after the flags; required when needName, else missing
// says what to give), and opens the data directory's users and keys. On
// failure the closer is nil and code is the exit code.
func openIAMCommand(fs *flag.FlagSet, data *string, name string, rest []string, needName bool, missing string, stderr io.Writer) (*iam.Service, io.Closer, string, int) {
	if err := fs.Parse(rest); err != nil {
		return nil, nil, "", ExitUsage
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if needName && name == "" {
		fmt.Fprintln(stderr, missing)
		return nil, nil, "", ExitUsage
	}
	svc, closer, err := app.OpenIAM(*data)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin:", err)
		return nil, nil, "", ExitFailure
	}
	return svc, closer, name, ExitOK
}

// splitName takes a leading positional argument off args, so that flags
// may follow it.
func splitName(args []string) (string, []string) {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		return args[0], args[1:]
	}
	return "", args
}

func iamFailure(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "firn admin:", err)
	var pe *policy.Error
	if errors.As(err, &pe) || errors.Is(err, iam.ErrInvalidUserName) {
		return ExitUsage
	}
	if errors.Is(err, meta.ErrNoSuchUser) || errors.Is(err, meta.ErrNoSuchAccessKey) || errors.Is(err, meta.ErrUserExists) {
		return ExitFailure
	}
	return ExitFailure
}
