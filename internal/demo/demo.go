// Package demo generates the demonstration data that `culturecloud dev` loads, so that a
// fresh install has something to see. It downloads nothing.
package demo

import (
	"context"
	"errors"

	"github.com/shizuishan/culturecloud/internal/accounts"
)

// Password is the password of every demo account (development only).
const Password = "Wenhua-Yun-2026"

// Account is a demo account as printed at start.
type Account struct {
	Name, Password, Role, Unit string
}

var people = []accounts.NewAccount{
	{Name: "admin", DisplayName: "市文旅局管理员", Role: accounts.Admin},
	{Name: "li.librarian", DisplayName: "李馆员（市图书馆）", Role: accounts.Librarian, Unit: "szs-library", Email: "li@example.org"},
	{Name: "wang.dwk", DisplayName: "王馆员（大武口区图书馆）", Role: accounts.Librarian, Unit: "dwk-library"},
	{Name: "ma.huinong", DisplayName: "马馆员（惠农区图书馆）", Role: accounts.Librarian, Unit: "hn-library"},
	{Name: "zhang.lecturer", DisplayName: "张老师（市文化馆）", Role: accounts.Lecturer, Unit: "szs-culture-centre"},
	{Name: "zhao.pingluo", DisplayName: "赵老师（平罗县文化馆）", Role: accounts.Lecturer, Unit: "pl-culture-centre"},
	{Name: "citizen", DisplayName: "石嘴山市民", Role: accounts.Citizen},
}

// Load creates the demo accounts that do not exist yet and returns all of them.
func Load(ctx context.Context, svc *accounts.Service) ([]Account, error) {
	var out []Account
	admin := accounts.Account{Name: "demo-loader", Role: accounts.Admin}
	for _, p := range people {
		p.Password = Password
		if _, err := svc.Create(ctx, admin, p); err != nil && !errors.Is(err, accounts.ErrExists) {
			return nil, err
		}
		out = append(out, Account{Name: p.Name, Password: Password, Role: string(p.Role), Unit: p.Unit})
	}
	return out, nil
}
