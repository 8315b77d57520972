package healthcode_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"healthcode"
)

// wantInvalid checks that err is INVALID with message msg ("" for nil).
func wantInvalid(t *testing.T, name string, err error, msg string) {
	t.Helper()
	switch {
	case msg == "" && err != nil:
		t.Errorf("%s: err = %v, want nil", name, err)
	case msg != "" && (healthcode.ErrorCode(err) != healthcode.EINVALID || healthcode.ErrorMessage(err) != msg):
		t.Errorf("%s: err = %v, want INVALID %q", name, err, msg)
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	for pw, ok := range map[string]bool{
		"abcdefgh12":             true,
		"密码密码密码密码密码1":            true, // Chinese characters are letters
		"abcdefgh1":              false,
		"abcdefghij":             false,
		"1234567890":             false,
		"":                       false,
		strings.Repeat("a1", 64): true,
		strings.Repeat("a1", 65): false,
	} {
		err := healthcode.ValidatePassword(pw)
		if ok && err != nil {
			t.Errorf("ValidatePassword(%q) = %v; want nil", pw, err)
		}
		if !ok && healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("ValidatePassword(%q) = %v; want INVALID", pw, err)
		}
	}
	if msg := healthcode.ErrorMessage(healthcode.ValidatePassword("short1")); msg != "密码至少 10 位，且须包含字母和数字" {
		t.Errorf("message = %q", msg)
	}
}

func TestValidPhoneAndText(t *testing.T) {
	t.Parallel()
	for phone, ok := range map[string]bool{"13812341234": true, "12812341234": false, "1381234123": false, "1381234123a": false} {
		if healthcode.ValidPhone(phone) != ok {
			t.Errorf("ValidPhone(%q) = %v", phone, !ok)
		}
	}
	if v, err := healthcode.ValidText("标题", "  健康码  ", 1, 10); v != "健康码" || err != nil {
		t.Errorf("ValidText = %q, %v", v, err)
	}
	_, err := healthcode.ValidText("标题", " ", 1, 10)
	wantInvalid(t, "empty text", err, "标题：不能为空")
	_, err = healthcode.ValidText("标题", "一二三", 1, 2)
	wantInvalid(t, "long text", err, "标题：长度应在 1 至 2 个字之间")
}

func TestDeclarationValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, healthcode.CST)
	day := func(d int) time.Time { return time.Date(2026, 11, 27+d, 0, 0, 0, 0, healthcode.CST) }
	good := func() healthcode.DeclarationInput {
		return healthcode.DeclarationInput{Form: healthcode.FormResident, Name: " 张三 ", DocType: healthcode.DocIDCard,
			DocNumber: "11010519491231002x", Phone: " 13812341234 ", ResidenceCode: "610113001001", Address: " 1号楼 ",
			Temperature: 36.5, Symptoms: []string{"cough"}, Travel: []healthcode.TravelEntry{{Place: "110105", From: day(-3), To: day(-1)}}}
	}
	in := good()
	if err := in.Validate(now, false); err != nil {
		t.Fatal(err)
	}
	if in.Name != "张三" || in.Phone != "13812341234" || in.Address != "1号楼" || in.DocNumber != "11010519491231002X" {
		t.Errorf("not normalised: %+v", in)
	}
	for _, c := range []struct {
		name          string
		edit          func(*healthcode.DeclarationInput)
		phoneOptional bool
		msg           string
	}{
		{"form", func(d *healthcode.DeclarationInput) { d.Form = "X" }, false, "申报类型：应为 ARRIVAL、PUBLIC_SECTOR、RETURNING_WORKER 或 RESIDENT"},
		{"name", func(d *healthcode.DeclarationInput) { d.Name = " " }, false, "姓名：不能为空，且不超过 50 个字"},
		{"no phone", func(d *healthcode.DeclarationInput) { d.Phone = "" }, false, "手机号码：应为 11 位手机号码"},
		{"no phone, staff", func(d *healthcode.DeclarationInput) { d.Phone = "" }, true, ""},
		{"bad phone, staff", func(d *healthcode.DeclarationInput) { d.Phone = "123" }, true, "手机号码：应为 11 位手机号码"},
		{"street residence", func(d *healthcode.DeclarationInput) { d.ResidenceCode = "610113001" }, false, "居住地：请选择到村（社区）或小区"},
		{"address", func(d *healthcode.DeclarationInput) { d.Address = "" }, false, "详细地址：不能为空，且不超过 200 个字"},
		{"employer", func(d *healthcode.DeclarationInput) { d.Form = healthcode.FormPublicSector }, false, "工作单位：机关事业单位人员和复工复产人员须填写工作单位"},
		{"temperature", func(d *healthcode.DeclarationInput) { d.Temperature = math.NaN() }, false, "体温：应在 35.0 至 42.0 ℃ 之间，请重新测量"},
		{"symptom", func(d *healthcode.DeclarationInput) { d.Symptoms = []string{"headache"} }, false, `症状：未知症状 "headache"`},
		{"place", func(d *healthcode.DeclarationInput) { d.Travel[0].Place = "ABROAD:usa" }, false, "旅居史：第 1 条地点应为地区代码或 ABROAD:国家代码"},
		{"order", func(d *healthcode.DeclarationInput) { d.Travel[0].To = day(-4) }, false, "旅居史：第 1 条结束日期早于开始日期"},
		{"future", func(d *healthcode.DeclarationInput) { d.Travel[0].To = day(1) }, false, "旅居史：第 1 条日期不能晚于今天"},
		{"old", func(d *healthcode.DeclarationInput) { d.Travel[0].From, d.Travel[0].To = day(-20), day(-15) }, false, "旅居史：第 1 条不在近 14 天内，无需填写"},
		{"the 14th day back", func(d *healthcode.DeclarationInput) { d.Travel[0].From, d.Travel[0].To = day(-20), day(-14) }, false, ""},
		{"origin", func(d *healthcode.DeclarationInput) {
			d.Form, d.Origin, d.ArrivalDate, d.Transport = healthcode.FormArrival, "610113", day(-1), "火车"
		}, false, "来源地：应为陕西省外的地区代码或 ABROAD:国家代码"},
		{"arrival", func(d *healthcode.DeclarationInput) {
			d.Form, d.Origin, d.ArrivalDate, d.Transport = healthcode.FormArrival, "ABROAD:US", day(-1), " "
		}, false, "交通方式：不能为空，且不超过 50 个字"},
	} {
		in := good()
		c.edit(&in)
		wantInvalid(t, c.name, in.Validate(now, c.phoneOptional), c.msg)
	}
}

func TestNewStaffValidate(t *testing.T) {
	t.Parallel()
	in := healthcode.NewStaff{Username: " Yanta.Admin ", DisplayName: " 管理员 ", Password: "abcdef123456", RegionCode: "610113", Phone: " 13812341234 "}
	if err := in.Validate(); err != nil || in.Username != "yanta.admin" || in.DisplayName != "管理员" || in.Phone != "13812341234" {
		t.Fatalf("%+v, %v", in, err)
	}
	for _, c := range []struct {
		name string
		edit func(*healthcode.NewStaff)
		msg  string
	}{
		{"username", func(s *healthcode.NewStaff) { s.Username = "ab" }, "用户名须为 3–32 位小写字母、数字、点、下划线或连字符，且以字母或数字开头"},
		{"display name", func(s *healthcode.NewStaff) { s.DisplayName = "" }, "姓名不能为空，且不超过 50 个字"},
		{"region", func(s *healthcode.NewStaff) { s.RegionCode = "11" }, `地区代码格式不正确："11"`},
		{"password", func(s *healthcode.NewStaff) { s.Password = "short1" }, "密码至少 10 位，且须包含字母和数字"},
		{"phone", func(s *healthcode.NewStaff) { s.Phone = "12345" }, "手机号码应为 11 位手机号码"},
		{"no phone", func(s *healthcode.NewStaff) { s.Phone = " " }, ""},
	} {
		in := healthcode.NewStaff{Username: "admin", DisplayName: "管理员", Password: "abcdef123456", RegionCode: "610113"}
		c.edit(&in)
		wantInvalid(t, c.name, in.Validate(), c.msg)
	}
}

func TestNewInstitutionValidate(t *testing.T) {
	t.Parallel()
	good := func() healthcode.NewInstitution {
		return healthcode.NewInstitution{Name: " 雁塔区查验点管理中心 ", CreditCode: "91610113ma6tg1234x", RegionCode: "610113",
			ContactName: "联络员", ContactPhone: "13812341234", AdminUsername: " Inst_Admin ", AdminDisplayName: "机构管理员",
			AdminPassword: "abcdef123456"}
	}
	body := "91610113MA6TG1234"
	check, _ := healthcode.CreditCodeCheck(body)
	in := good()
	in.CreditCode = strings.ToLower(body + string(check))
	if err := in.Validate(); err != nil || in.CreditCode != body+string(check) || in.Name != "雁塔区查验点管理中心" || in.AdminUsername != "inst_admin" {
		t.Fatalf("%+v, %v", in, err)
	}
	for _, c := range []struct {
		name string
		edit func(*healthcode.NewInstitution)
		msg  string
	}{
		{"name", func(i *healthcode.NewInstitution) { i.Name = "" }, "机构名称：不能为空"},
		{"credit code", func(i *healthcode.NewInstitution) { i.CreditCode = "91610113MA6TG12340" }, "统一社会信用代码：应为 18 位（数字或大写字母，不含 I、O、S、V、Z），且校验位正确"},
		{"region", func(i *healthcode.NewInstitution) { i.RegionCode = "6101" }, "所在地区：应为陕西省内区县及以下的地区代码"},
		{"contact", func(i *healthcode.NewInstitution) { i.ContactName = " " }, "联系人：不能为空"},
		{"phone", func(i *healthcode.NewInstitution) { i.ContactPhone = "029-1234" }, "联系电话：应为 11 位手机号码"},
		{"username", func(i *healthcode.NewInstitution) { i.AdminUsername = "-x" }, "用户名：须为 3–32 位小写字母、数字、点、下划线或连字符，且以字母或数字开头"},
		{"admin name", func(i *healthcode.NewInstitution) { i.AdminDisplayName = "" }, "姓名：不能为空，且不超过 50 个字"},
		{"password", func(i *healthcode.NewInstitution) { i.AdminPassword = "password" }, "密码至少 10 位，且须包含字母和数字"},
	} {
		in := good()
		in.CreditCode = body + string(check)
		c.edit(&in)
		wantInvalid(t, c.name, in.Validate(), c.msg)
	}
}

func TestNewTicketValidate(t *testing.T) {
	t.Parallel()
	in := healthcode.NewTicket{Subject: " 咨询 ", Description: " 内容 ", CallerPhone: "13812341234"}
	if err := in.Validate(); err != nil || in.Subject != "咨询" || in.Description != "内容" {
		t.Fatalf("%+v, %v", in, err)
	}
	for _, c := range []struct {
		name string
		in   healthcode.NewTicket
		msg  string
	}{
		{"subject", healthcode.NewTicket{Subject: strings.Repeat("长", 101), Description: "x"}, "标题：长度应在 1 至 100 个字之间"},
		{"description", healthcode.NewTicket{Subject: "x"}, "诉求内容：不能为空"},
		{"phone", healthcode.NewTicket{Subject: "x", Description: "y", CallerPhone: "110"}, "来电号码：应为 11 位手机号码"},
		{"no phone", healthcode.NewTicket{Subject: "x", Description: "y"}, ""},
	} {
		wantInvalid(t, c.name, c.in.Validate(), c.msg)
	}
}

func TestMedicalEventRecordValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, healthcode.CST)
	first := "61011319900101001"
	c, _ := healthcode.IDCheckChar(first)
	good := func() healthcode.MedicalEventRecord {
		return healthcode.MedicalEventRecord{RecordID: "HOSP-1", DocType: healthcode.DocIDCard, DocNumber: first + string(c),
			Kind: "CONFIRMED", At: now.Add(-time.Hour), Note: " 门诊 "}
	}
	in := good()
	if err := in.Validate(now); err != nil || in.Note != "门诊" {
		t.Fatalf("%+v, %v", in, err)
	}
	for _, c := range []struct {
		name string
		edit func(*healthcode.MedicalEventRecord)
		msg  string
	}{
		{"transport", func(r *healthcode.MedicalEventRecord) { r.Invalid = healthcode.FieldError("kind", "x") }, "kind：x"},
		{"record id", func(r *healthcode.MedicalEventRecord) { r.RecordID = "-1" }, "recordId：记录编号须为 1 至 64 位字母、数字或 . _ : -，且以字母或数字开头"},
		{"kind", func(r *healthcode.MedicalEventRecord) { r.Kind = "HEALTHY" }, "kind：医学状态应为 " + strings.Join(healthcode.MedicalKinds, "、") + " 之一"},
		{"future", func(r *healthcode.MedicalEventRecord) { r.At = now.Add(2 * time.Hour) }, "at：发生时间应在最近 30 天内，且不晚于当前时间"},
		{"too old", func(r *healthcode.MedicalEventRecord) { r.At = now.AddDate(0, 0, -31) }, "at：发生时间应在最近 30 天内，且不晚于当前时间"},
		{"note", func(r *healthcode.MedicalEventRecord) { r.Note = strings.Repeat("字", 201) }, "note：备注不超过 200 个字"},
	} {
		in := good()
		c.edit(&in)
		wantInvalid(t, c.name, in.Validate(now), c.msg)
	}
	in = good()
	in.DocNumber = "610113199001010010"
	if err := in.Validate(now); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("bad check digit: %v", err)
	}
}

func TestPersonCorrectionValidate(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	in := healthcode.PersonCorrection{Name: s(" 张三 "), Employer: s(" ")}
	if err := in.Validate(); err != nil || *in.Name != "张三" || *in.Employer != "" || strings.Join(in.Fields(), ",") != "name,employer" {
		t.Fatalf("%v %v: %v", *in.Name, in.Fields(), err)
	}
	for _, c := range []struct {
		name string
		in   healthcode.PersonCorrection
		msg  string
	}{
		{"nothing", healthcode.PersonCorrection{}, "没有需要修改的信息"},
		{"name", healthcode.PersonCorrection{Name: s(" ")}, "姓名：不能为空，且不超过 50 个字"},
		{"phone", healthcode.PersonCorrection{Phone: s("029-1234")}, "手机号码：应为 11 位手机号码"},
		{"residence", healthcode.PersonCorrection{ResidenceCode: s("610113")}, "居住地：请选择到村（社区）或小区"},
		{"address", healthcode.PersonCorrection{Address: s(strings.Repeat("路", 201))}, "详细地址：不能为空，且不超过 200 个字"},
		{"employer", healthcode.PersonCorrection{Employer: s(strings.Repeat("厂", 101))}, "工作单位：不超过 100 个字"},
	} {
		wantInvalid(t, c.name, c.in.Validate(), c.msg)
	}
}

func TestClaimInputValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, healthcode.CST)
	first := "61011319900101001"
	c, _ := healthcode.IDCheckChar(first)
	in := healthcode.ClaimInput{DocType: healthcode.DocIDCard, DocNumber: " " + first + string(c) + " ", Name: " 张三 "}
	if err := in.Validate(now); err != nil || in.DocNumber != first+string(c) || in.Name != "张三" {
		t.Fatalf("%+v: %v", in, err)
	}
	wantInvalid(t, "type", (&healthcode.ClaimInput{DocType: "CARD", DocNumber: first + string(c), Name: "张三"}).Validate(now), "证件类型：未知的证件类型")
	wantInvalid(t, "name", (&healthcode.ClaimInput{DocType: healthcode.DocIDCard, DocNumber: first + string(c), Name: " "}).Validate(now), "姓名：不能为空，且不超过 50 个字")
	if err := (&healthcode.ClaimInput{DocType: healthcode.DocIDCard, DocNumber: "123", Name: "张三"}).Validate(now); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("bad number: %v", err)
	}
}

func TestSubsystemRecordValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, healthcode.CST)
	good := func() healthcode.SubsystemRecord {
		return healthcode.SubsystemRecord{RecordID: "XA-0001", Colour: healthcode.Yellow, IssuedAt: now.Add(-time.Hour), Sex: "1", Nationality: "CHN"}
	}
	in := good()
	if err := in.Validate(now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(*healthcode.SubsystemRecord)
		msg  string
	}{
		{"record id", func(r *healthcode.SubsystemRecord) { r.RecordID = "XA 1" }, "recordId：记录编号须为 1 至 64 位可见 ASCII 字符"},
		{"colour", func(r *healthcode.SubsystemRecord) { r.Colour = "BLUE" }, "colour：码颜色应为 GREEN、YELLOW 或 RED"},
		{"issued", func(r *healthcode.SubsystemRecord) { r.IssuedAt = now.Add(2 * time.Hour) }, "issuedAt：赋码时间不能为空，也不能晚于当前时间"},
		{"sex", func(r *healthcode.SubsystemRecord) { r.Sex = "M" }, "sex：性别应为 GB/T 2261.1 代码 0、1、2 或 9"},
		{"nationality", func(r *healthcode.SubsystemRecord) { r.Nationality = "chn" }, "nationality：国籍应为 3 位大写字母代码（GB/T 2659）"},
	} {
		in := good()
		c.edit(&in)
		wantInvalid(t, c.name, in.Validate(now), c.msg)
	}
}

func TestCheckInValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		in   healthcode.CheckIn
		msg  string
	}{
		{"normal", healthcode.CheckIn{Temperature: 36.5}, ""},
		{"bounds", healthcode.CheckIn{Temperature: 35.0, Symptoms: []string{"fever", "cough"}}, ""},
		{"upper bound", healthcode.CheckIn{Temperature: 42.0}, ""},
		{"too low", healthcode.CheckIn{Temperature: 34.9}, "体温：应在 35.0 至 42.0 ℃ 之间，请重新测量"},
		{"too high", healthcode.CheckIn{Temperature: 42.1}, "体温：应在 35.0 至 42.0 ℃ 之间，请重新测量"},
		{"NaN", healthcode.CheckIn{Temperature: math.NaN()}, "体温：应在 35.0 至 42.0 ℃ 之间，请重新测量"},
		{"infinity", healthcode.CheckIn{Temperature: math.Inf(1)}, "体温：应在 35.0 至 42.0 ℃ 之间，请重新测量"},
		{"symptom", healthcode.CheckIn{Temperature: 36.5, Symptoms: []string{"cough", "头疼"}}, `症状：未知症状 "头疼"`},
		{"long symptom", healthcode.CheckIn{Temperature: 36.5, Symptoms: []string{strings.Repeat("x", 30)}}, `症状：未知症状 "` + strings.Repeat("x", 20) + `…"`},
	} {
		wantInvalid(t, c.name, c.in.Validate(), c.msg)
	}
}

func TestGuardianBindingValidate(t *testing.T) {
	t.Parallel()
	in := healthcode.GuardianBinding{GuardianPhone: " 13812341234 ", Reason: " 入户核实 "}
	if err := in.Validate(); err != nil || in.GuardianPhone != "13812341234" || in.Reason != "入户核实" {
		t.Fatalf("%+v: %v", in, err)
	}
	for _, c := range []struct {
		name string
		in   healthcode.GuardianBinding
		msg  string
	}{
		{"phone", healthcode.GuardianBinding{GuardianPhone: "12812341234", Reason: "核实"}, "监护人手机号码：应为 11 位手机号码"},
		{"no phone", healthcode.GuardianBinding{Reason: "核实"}, "监护人手机号码：应为 11 位手机号码"},
		{"blank reason", healthcode.GuardianBinding{GuardianPhone: "13812341234", Reason: "  "}, "原因：请填写确认监护关系的依据，不超过 200 字"},
		{"long reason", healthcode.GuardianBinding{GuardianPhone: "13812341234", Reason: strings.Repeat("因", 201)}, "原因：请填写确认监护关系的依据，不超过 200 字"},
		{"longest reason", healthcode.GuardianBinding{GuardianPhone: "13812341234", Reason: strings.Repeat("因", 200)}, ""},
	} {
		wantInvalid(t, c.name, c.in.Validate(), c.msg)
	}
}

func TestGuardianUnbindingValidate(t *testing.T) {
	t.Parallel()
	in := healthcode.GuardianUnbinding{Reason: " 监护关系变更 "}
	if err := in.Validate(); err != nil || in.Reason != "监护关系变更" {
		t.Fatalf("%+v: %v", in, err)
	}
	for _, c := range []struct {
		name, reason, msg string
	}{
		{"blank", " ", "原因：请填写解除绑定的原因，不超过 200 字"},
		{"long", strings.Repeat("因", 201), "原因：请填写解除绑定的原因，不超过 200 字"},
		{"longest", strings.Repeat("因", 200), ""},
	} {
		wantInvalid(t, c.name, (&healthcode.GuardianUnbinding{Reason: c.reason}).Validate(), c.msg)
	}
}
