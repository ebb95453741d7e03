"""RAM console logon profiles (CreateLoginProfile / GetLoginProfile / UpdateLoginProfile /
DeleteLoginProfile) through the official SDKs, and DeleteUser's DeleteConflict.User.LoginProfile."""

import rshelpers as h


def test_login_profile_lifecycle(ram, root_api):
    user = h.unique_name("lp")
    root_api.call("CreateUser", {"UserName": user})

    h.expect_error(lambda: ram.call("GetLoginProfile", {"UserName": user}),
                   code="EntityNotExist.User.LoginProfile", status=404)
    body = ram.call("CreateLoginProfile", {"UserName": user, "Password": "Console-Passw0rd",
                                           "PasswordResetRequired": True})
    h.assert_request_id(body)
    lp = body["LoginProfile"]
    assert lp["UserName"] == user
    assert lp["PasswordResetRequired"] is True
    assert lp["MFABindRequired"] is False
    h.assert_date(lp["CreateDate"])
    assert "Password" not in lp

    h.expect_error(lambda: ram.call("CreateLoginProfile", {"UserName": user, "Password": "Console-Passw0rd"}),
                   code="EntityAlreadyExists.User.LoginProfile", status=409)
    h.expect_error(lambda: ram.call("DeleteUser", {"UserName": user}),
                   code="DeleteConflict.User.LoginProfile", status=409)

    ram.call("UpdateLoginProfile", {"UserName": user, "PasswordResetRequired": False, "MFABindRequired": True})
    got = ram.call("GetLoginProfile", {"UserName": user})["LoginProfile"]
    assert got["PasswordResetRequired"] is False
    assert got["MFABindRequired"] is True
    assert got["CreateDate"] == lp["CreateDate"]
    ram.call("UpdateLoginProfile", {"UserName": user, "Password": "Another-Passw0rd"})

    ram.call("DeleteLoginProfile", {"UserName": user})
    h.expect_error(lambda: ram.call("DeleteLoginProfile", {"UserName": user}),
                   code="EntityNotExist.User.LoginProfile", status=404)
    h.expect_error(lambda: ram.call("UpdateLoginProfile", {"UserName": user, "Password": "Another-Passw0rd"}),
                   code="EntityNotExist.User.LoginProfile", status=404)
    ram.call("DeleteUser", {"UserName": user})


def test_login_profile_validation(root_api):
    user = h.unique_name("lpv")
    root_api.call("CreateUser", {"UserName": user})
    h.expect_error(lambda: root_api.call("CreateLoginProfile", {"UserName": user, "Password": "short"}),
                   code="InvalidParameter.Password.TooWeak", status=400)
    h.expect_error(lambda: root_api.call("CreateLoginProfile", {"UserName": user, "Password": "x" * 33}),
                   code="InvalidParameter.Password.Length", status=400)
    h.expect_error(lambda: root_api.call("CreateLoginProfile", {"UserName": user}),
                   code_prefix="Missing", status=400, message_contains="Password")
    h.expect_error(lambda: root_api.call("CreateLoginProfile", {"UserName": h.unique_name("nobody"),
                                                                "Password": "Console-Passw0rd"}),
                   code="EntityNotExist.User", status=404)
    h.expect_error(lambda: root_api.call("CreateLoginProfile", {"UserName": user, "Password": "Console-Passw0rd",
                                                                "PasswordResetRequired": "maybe"}),
                   code="InvalidParameter.PasswordResetRequired", status=400)
    root_api.call("DeleteUser", {"UserName": user})


def test_login_profile_needs_permission(root_api, ram_user, api_for):
    target = h.unique_name("lpt")
    root_api.call("CreateUser", {"UserName": target})
    _, ak, secret = ram_user()
    user_api = api_for(ak, secret)
    err = h.expect_error(lambda: user_api.call("CreateLoginProfile", {"UserName": target, "Password": "Console-Passw0rd"}),
                         code="NoPermission", status=403)
    assert "ram:CreateLoginProfile" in err.message
    root_api.call("DeleteUser", {"UserName": target})
